import Testing

@testable import FallbackWire

@Suite("ChatRequest: decoding OpenAI's Chat Completions request")
struct ChatRequestDecodeTests {
    func decode(_ text: String) throws -> ChatRequest {
        try ChatRequest(decoding: try json(text), ownFields: CompleteParams.ownFields)
    }

    func failure(_ text: String) throws -> WireError? {
        let object = try json(text)
        do {
            _ = try ChatRequest(decoding: object, ownFields: CompleteParams.ownFields)
            return nil
        } catch {
            return error
        }
    }

    @Test("every schema field is read; fallbackd's own and unknown members are kept apart")
    func everyField() throws {
        let request = try decode("""
            {"model":"gpt-4o","task":"t","timeout_ms":5,"messages":[\
            {"role":"developer","content":"d"},{"role":"user","content":[{"type":"text","text":"look"},\
            {"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA","detail":"high"}},\
            {"type":"input_audio","input_audio":{"data":"UklG","format":"wav"}},\
            {"type":"file","file":{"file_id":"file-1"}}]},\
            {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},\
            {"role":"tool","tool_call_id":"c1","content":"42"}],\
            "tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"},"strict":true}}],\
            "tool_choice":{"type":"function","function":{"name":"f"}},"parallel_tool_calls":true,\
            "response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{"type":"object"},"strict":true}},\
            "max_tokens":10,"max_completion_tokens":20,"temperature":0.5,"top_p":1,"stop":"X","seed":1,\
            "presence_penalty":0.1,"frequency_penalty":-0.1,"logit_bias":{"50256":-100},"user":"u",\
            "reasoning_effort":"low","stream":true,"stream_options":{"include_usage":true},"n":1,"logprobs":true}
            """)
        #expect(request.messages.map(\.role) == [.developer, .user, .assistant, .tool])
        #expect(request.messages[1].content?.parts.map(\.typeName) == ["text", "image_url", "input_audio", "file"])
        #expect(request.messages[2].toolCalls == [ToolCall(id: "c1", name: "f", arguments: "{}")])
        #expect(request.messages[3].toolCallID == "c1")
        #expect(request.tools.map(\.name) == ["f"] && request.tools.first?.strict == true)
        #expect(request.toolChoice == .function("f"))
        #expect(request.maxOutputTokens == 20, "max_completion_tokens wins over max_tokens")
        #expect(request.stop == ["X"] && request.seed == 1 && request.user == "u" && request.reasoningEffort == "low")
        #expect(request.stream && request.streamIncludeUsage)
        #expect(request.extra.map(\.key) == ["logprobs"])
        #expect(request.received?["task"] == nil && request.received?["timeout_ms"] == nil, "own fields never go upstream")
        #expect(request.received?["model"] == nil, "fallbackd chooses the model")
        #expect(request.received?["logprobs"] == true)
        #expect(request.requiredCapabilities == [.audio, .jsonSchema, .logitBias, .openAIFiles, .pdf, .penalties, .reasoning, .seed, .tools, .vision])
    }

    @Test("errors name the field", arguments: [
        (#"{"messages":[]}"#, "messages"),
        (#"{"messages":[{"role":"robot","content":"x"}]}"#, "messages[0].role"),
        (#"{"messages":[{"role":"user","content":[{"type":"video","url":"x"}]}]}"#, "messages[0].content[0].type"),
        (#"{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x"}}]}]}"#, "messages[0].content[0].image_url.url"),
        (#"{"messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://x"}}]},{"role":"user","content":"q"}]}"#, "messages[0].content[0].type"),
        (#"{"messages":[{"role":"tool","content":"x"}]}"#, "messages[0].tool_call_id"),
        (#"{"messages":[{"role":"user","content":"q"},{"role":"tool","tool_call_id":"nope","content":"x"}]}"#, "messages[1].tool_call_id"),
        (#"{"messages":[{"role":"assistant","content":null}]}"#, "messages[0].content"),
        (#"{"messages":[{"role":"system","content":"only instructions"}]}"#, "messages"),
        (#"{"messages":[{"role":"user","content":"q"}],"tools":[{"type":"function","function":{}}]}"#, "tools[0].function.name"),
        (#"{"messages":[{"role":"user","content":"q"}],"tool_choice":"required"}"#, "tool_choice"),
        (#"{"messages":[{"role":"user","content":"q"}],"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":{"type":"function","function":{"name":"b"}}}"#, "tool_choice"),
        (#"{"messages":[{"role":"user","content":"q"}],"response_format":{"type":"xml"}}"#, "response_format.type"),
        (#"{"messages":[{"role":"user","content":"q"}],"temperature":3}"#, "temperature"),
        (#"{"messages":[{"role":"user","content":"q"}],"max_tokens":0}"#, "max_tokens"),
        (#"{"messages":[{"role":"user","content":"q"}],"n":2}"#, "n"),
        (#"{"messages":[{"role":"user","content":"q"}],"reasoning_effort":"max"}"#, "reasoning_effort"),
        (#"{"messages":[{"role":"user","content":"q"}],"stop":["a","b","c","d","e"]}"#, "stop"),
    ])
    func errorsNameTheField(body: String, field: String) throws {
        let error = try failure(body)
        #expect(error?.field == field, "\(String(describing: error))")
    }

    @Test("a request built in code encodes to the same OpenAI body a decoded one carries")
    func encodeRoundTrip() throws {
        let text = """
            {"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":null,\
            "tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{\\"a\\":1}"}}]},\
            {"role":"tool","content":"ok","tool_call_id":"c"}],"tools":[{"type":"function","function":{"name":"f"}}],\
            "tool_choice":"auto","max_completion_tokens":7,"stop":["s"],"seed":3,"logprobs":true}
            """
        let decoded = try decode(text)
        var rebuilt = decoded
        rebuilt.received = nil
        #expect(rebuilt.body == decoded.body)
    }
}
