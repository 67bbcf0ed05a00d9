import FallbackCore
import Testing

@testable import FallbackProviders

/// Runs events through a decoder and returns what it means.
func decodeAll<D: StreamDecoder>(_ decoder: inout D, _ events: [(String?, String)], finish: Bool = true) -> [StreamEvent] {
    var out: [StreamEvent] = []
    for (type, data) in events { out += decoder.decode(SSEEvent(event: type, data: data)) }
    if finish { out += decoder.finish() }
    return out
}

func text(_ events: [StreamEvent]) -> String {
    events.compactMap { if case .delta(let delta) = $0 { return delta.content } else { return nil } }.joined()
}

@Suite("Stream decoders: each provider's events to deltas")
struct StreamDecoderTests {
    @Test("OpenAI: content and tool-call fragments, finish reason, usage chunk, [DONE]")
    func openAI() {
        var decoder = OpenAIStreamDecoder()
        let events = decodeAll(&decoder, [
            (nil, #"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#),
            (nil, #"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}"#),
            (nil, #"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]}}]}"#),
            (nil, #"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":1}"}}]}}]}"#),
            (nil, #"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#),
            (nil, #"{"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":4,"prompt_tokens_details":{"cached_tokens":2}}}"#),
            (nil, "[DONE]"),
        ])
        var accumulator = StreamAccumulator()
        for case .delta(let delta) in events { accumulator.add(delta) }
        #expect(accumulator.content == "Hel")
        #expect(accumulator.toolCalls == [ToolCall(id: "call_1", name: "f", arguments: #"{"a":1}"#)])
        #expect(accumulator.finishReason == .toolCalls)
        #expect(accumulator.usage == Usage(inputTokens: 9, outputTokens: 4, cachedInputTokens: 2))
        #expect(events.last == .done)
        #expect(events.filter { $0 == .done }.count == 1, "the HTTP end after [DONE] adds nothing")
    }

    @Test("OpenAI: a stream without [DONE] is complete when it gave its finish reason, cut when it did not")
    func openAIEndings() {
        var finished = OpenAIStreamDecoder()
        let complete = decodeAll(&finished, [(nil, #"{"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}]}"#)])
        #expect(complete.last == .done)
        var cut = OpenAIStreamDecoder()
        let broken = decodeAll(&cut, [(nil, #"{"choices":[{"index":0,"delta":{"content":"x"}}]}"#)])
        guard case .failure(let failure)? = broken.last else {
            Issue.record("expected a failure, got \(broken)")
            return
        }
        #expect(failure.type == .connection)
        var errored = OpenAIStreamDecoder()
        let error = decodeAll(&errored, [(nil, #"{"error":{"message":"The server had an error","type":"server_error"}}"#)], finish: false)
        #expect(error == [.failure(ProviderFailure(.serverError, message: "The server had an error"))])
        var malformed = OpenAIStreamDecoder()
        #expect(decodeAll(&malformed, [(nil, #"{"choices":[{"#)], finish: false) == [.malformed("chunk is not a JSON object")])
    }

    @Test("Anthropic: typed events, tool input fragments, usage from start and delta, in-stream error")
    func anthropic() {
        var decoder = AnthropicStreamDecoder(answerTool: nil)
        let events = decodeAll(&decoder, [
            ("message_start", #"{"type":"message_start","message":{"id":"m","usage":{"input_tokens":25,"cache_read_input_tokens":100,"output_tokens":1}}}"#),
            ("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#),
            ("ping", #"{"type":"ping"}"#),
            ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Let me check"}}"#),
            ("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
            ("content_block_start", #"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}}"#),
            ("content_block_delta", #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\":"}}"#),
            ("content_block_delta", #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\"Paris\"}"}}"#),
            ("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":40}}"#),
            ("message_stop", #"{"type":"message_stop"}"#),
        ])
        var accumulator = StreamAccumulator()
        for case .delta(let delta) in events { accumulator.add(delta) }
        #expect(accumulator.content == "Let me check")
        #expect(accumulator.toolCalls == [ToolCall(id: "toolu_1", name: "get_weather", arguments: #"{"city":"Paris"}"#)])
        #expect(accumulator.finishReason == .toolCalls)
        #expect(accumulator.usage == Usage(inputTokens: 125, outputTokens: 40, cachedInputTokens: 100))
        #expect(decoder.ending.providerFinish == "tool_use")

        var overloaded = AnthropicStreamDecoder(answerTool: nil)
        let error = decodeAll(&overloaded, [("error", #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#)], finish: false)
        #expect(error == [.failure(ProviderFailure(.overloaded, message: "Overloaded"))])
    }

    @Test("Anthropic: the JSON-answer tool's input streams as text and finishes as stop")
    func anthropicJSONAnswer() {
        var decoder = AnthropicStreamDecoder(answerTool: "person")
        let events = decodeAll(&decoder, [
            ("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"person","input":{}}}"#),
            ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"name\":"}}"#),
            ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"\"Ann\"}"}}"#),
            ("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":9}}"#),
            ("message_stop", #"{"type":"message_stop"}"#),
        ])
        #expect(text(events) == #"{"name":"Ann"}"#)
        var accumulator = StreamAccumulator()
        for case .delta(let delta) in events { accumulator.add(delta) }
        #expect(accumulator.toolCalls.isEmpty)
        #expect(accumulator.finishReason == .stop)
    }

    @Test("Gemini: text parts without thoughts, whole function calls, finish from the last event, no end marker")
    func gemini() {
        var decoder = GeminiStreamDecoder()
        let events = decodeAll(&decoder, [
            (nil, #"{"candidates":[{"content":{"role":"model","parts":[{"text":"hmm","thought":true},{"text":"The "}]}}],"usageMetadata":{"promptTokenCount":7}}"#),
            (nil, #"{"candidates":[{"content":{"role":"model","parts":[{"text":"answer."}]}}]}"#),
            (nil, #"{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"f","args":{"a":1}}}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":7,"candidatesTokenCount":5,"thoughtsTokenCount":3}}"#),
        ])
        #expect(text(events) == "The answer.")
        var accumulator = StreamAccumulator()
        for case .delta(let delta) in events { accumulator.add(delta) }
        #expect(accumulator.toolCalls == [ToolCall(id: "call_0", name: "f", arguments: #"{"a":1}"#)])
        #expect(accumulator.finishReason == .toolCalls)
        #expect(accumulator.usage == Usage(inputTokens: 7, outputTokens: 8, reasoningTokens: 3))
        #expect(events.last == .done)

        var cut = GeminiStreamDecoder()
        guard case .failure(let failure)? = decodeAll(&cut, [(nil, #"{"candidates":[{"content":{"parts":[{"text":"The "}]}}]}"#)]).last else {
            Issue.record("a stream cut before its finishReason must fail")
            return
        }
        #expect(failure.type == .connection)
    }
}
