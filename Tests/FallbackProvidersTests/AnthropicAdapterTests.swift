import FallbackCore
import FallbackRPC
import Testing

@testable import FallbackProviders

@Suite struct AnthropicAdapterTests {
    let claude = ModelConfig(name: "claude", provider: "anthropic", modelID: "claude-sonnet-4-20250514", maxTokens: 8192)

    @Test func requestSplitsSystemMessages() {
        var settings = testSettings(.anthropic)
        settings.anthropicVersion = "2023-06-01"
        let call = AnthropicAdapter.makeRequest(
            testRequest(conversation, model: testModel(id: "claude-3-5-sonnet-20241022"), maxTokens: 512),
            settings: settings)
        #expect(call.url == "https://api.anthropic.com/v1/messages")
        #expect(call.headers.first(name: "x-api-key") == secretKey.reveal())
        #expect(call.headers.first(name: "anthropic-version") == "2023-06-01")
        #expect(call.headers.first(name: "authorization") == nil)
        #expect(call.body["model"]?.stringValue == "claude-3-5-sonnet-20241022")
        #expect(call.body["max_tokens"]?.intValue == 512)
        #expect(call.body["system"] == [["type": "text", "text": "Be terse."], ["type": "text", "text": "Answer in English."]])
        #expect(strings(call.body["messages"], "role") == ["user", "assistant", "user"])
        #expect(call.body["messages"]?[0]?["content"] == [["type": "text", "text": "Hi"]])
    }

    @Test func noSystemFieldWithoutSystemMessagesAndTemperatureClamped() {
        let call = AnthropicAdapter.makeRequest(
            testRequest([ChatMessage(role: .user, content: "x")], temperature: 1.7), settings: testSettings(.anthropic))
        #expect(call.body["system"] == nil)
        #expect(call.body["temperature"]?.doubleValue == 1.0)
    }

    /// A multi-turn tool conversation in OpenAI's shape becomes Anthropic's tool_use / tool_result blocks;
    /// the two parallel results share one user turn, as the Messages API requires.
    @Test func toolConversationRoundTrip() throws {
        let request = try chatRequest("""
            {"messages":[{"role":"system","content":"Use tools."},{"role":"user","content":"Weather in Boston and Paris?"},\
            {"role":"assistant","content":null,"tool_calls":[\
            {"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\\"city\\":\\"Boston\\"}"}},\
            {"id":"call_2","type":"function","function":{"name":"get_weather","arguments":"{\\"city\\":\\"Paris\\"}"}}]},\
            {"role":"tool","tool_call_id":"call_1","content":"22C sunny"},{"role":"tool","tool_call_id":"call_2","content":"18C rain"}],\
            "tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather",\
            "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}],\
            "tool_choice":"required","parallel_tool_calls":false,"stop":["\\n\\nHuman:"],"user":"user-42"}
            """, model: claude)
        let body = AnthropicTranslation.body(request)
        #expect(body["messages"] == (try JSON.parse("""
            [{"role":"user","content":[{"type":"text","text":"Weather in Boston and Paris?"}]},\
            {"role":"assistant","content":[{"type":"tool_use","id":"call_1","name":"get_weather","input":{"city":"Boston"}},\
            {"type":"tool_use","id":"call_2","name":"get_weather","input":{"city":"Paris"}}]},\
            {"role":"user","content":[{"type":"tool_result","tool_use_id":"call_1","content":"22C sunny"},\
            {"type":"tool_result","tool_use_id":"call_2","content":"18C rain"}]}]
            """)))
        #expect(body["tools"] == (try JSON.parse("""
            [{"name":"get_weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]},\
            "description":"Current weather"}]
            """)))
        #expect(body["tool_choice"] == ["type": "any", "disable_parallel_tool_use": true])
        #expect(body["stop_sequences"] == ["\n\nHuman:"])
        #expect(body["metadata"] == ["user_id": "user-42"])
    }

    @Test func imagesAndDocumentsBecomeBlocks() throws {
        let request = try chatRequest("""
            {"messages":[{"role":"user","content":[{"type":"text","text":"Compare."},\
            {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},\
            {"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}},\
            {"type":"file","file":{"filename":"a.pdf","file_data":"data:application/pdf;base64,JVBERi0xLjQ="}}]}]}
            """, model: claude)
        #expect(AnthropicTranslation.body(request)["messages"]?[0]?["content"] == (try JSON.parse("""
            [{"type":"text","text":"Compare."},\
            {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},\
            {"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}},\
            {"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0xLjQ="}}]
            """)))
    }

    @Test func aJSONSchemaIsAnsweredThroughAForcedToolAndComesBackAsText() throws {
        let request = try chatRequest("""
            {"messages":[{"role":"user","content":"Extract: Ann, 31"}],\
            "response_format":{"type":"json_schema","json_schema":{"name":"person","strict":true,\
            "schema":{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}},"required":["name","age"]}}}}
            """, model: claude)
        let body = AnthropicTranslation.body(request)
        #expect(body["tools"]?[0]?["name"] == "person")
        #expect(body["tools"]?[0]?["input_schema"]?["required"] == ["name", "age"])
        #expect(body["tool_choice"] == ["type": "tool", "name": "person"])
        let answer = """
            {"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-20250514","content":[\
            {"type":"tool_use","id":"toolu_01","name":"person","input":{"name":"Ann","age":31}}],\
            "stop_reason":"tool_use","usage":{"input_tokens":410,"output_tokens":40}}
            """
        let response = try AnthropicAdapter.parseResponse(reply(200, answer), apiKey: nil, nowUnixMillis: 0, answerTool: "person").get()
        #expect(response.content == #"{"name":"Ann","age":31}"#)
        #expect(response.message.toolCalls.isEmpty)
        #expect(response.finishReason == .stop)
    }

    @Test func reasoningEffortBecomesThinkingWithItsBudgetOnTop() throws {
        let request = try chatRequest(
            #"{"messages":[{"role":"user","content":"Prove it."}],"reasoning_effort":"medium","max_tokens":1000,"temperature":0.2}"#,
            model: claude)
        let body = AnthropicTranslation.body(request)
        #expect(body["thinking"] == ["type": "enabled", "budget_tokens": 8192])
        #expect(body["max_tokens"]?.intValue == 9192)
        #expect(body["temperature"] == nil)
        #expect(AnthropicTranslation.ignoredFields(request) == ["temperature"])
    }

    @Test func promptCacheMarksTheSystemPromptAndTools() throws {
        var cached = claude
        cached.promptCache = true
        let request = try chatRequest("""
            {"messages":[{"role":"system","content":"Long policy."},{"role":"user","content":"Hi"}],\
            "tools":[{"type":"function","function":{"name":"a"}},{"type":"function","function":{"name":"b"}}]}
            """, model: cached)
        let body = AnthropicTranslation.body(request)
        #expect(body["system"]?[0]?["cache_control"] == ["type": "ephemeral"])
        #expect(body["tools"]?[0]?["cache_control"] == nil)
        #expect(body["tools"]?[1]?["cache_control"] == ["type": "ephemeral"])
    }

    @Test func parsesTextToolUseAndCacheUsage() throws {
        let body = """
            {"id":"msg_01A","type":"message","role":"assistant","model":"claude-sonnet-4-20250514","content":[\
            {"type":"thinking","thinking":"Let me check.","signature":"sig"},{"type":"text","text":"Checking the weather."},\
            {"type":"tool_use","id":"toolu_01A09q90qw90lq917835lq9","name":"get_weather","input":{"location":"San Francisco, CA"}}],\
            "stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":21,"cache_creation_input_tokens":100,\
            "cache_read_input_tokens":1000,"output_tokens":50}}
            """
        let response = try AnthropicAdapter.parseResponse(reply(200, body), apiKey: secretKey, nowUnixMillis: 0).get()
        #expect(response.content == "Checking the weather.")
        #expect(response.message.toolCalls == [
            ToolCall(id: "toolu_01A09q90qw90lq917835lq9", name: "get_weather", arguments: #"{"location":"San Francisco, CA"}"#)
        ])
        #expect(response.finishReason == .toolCalls)
        #expect(response.providerFinishReason == "tool_use")
        #expect(response.usage == Usage(inputTokens: 1121, outputTokens: 50, cachedInputTokens: 1000, cacheWriteTokens: 100))
    }

    @Test(arguments: [("end_turn", FinishReason.stop), ("stop_sequence", .stop), ("max_tokens", .length), ("refusal", .contentFilter)])
    func stopReasonsMap(raw: String, expected: FinishReason) throws {
        let body = #"{"type":"message","role":"assistant","content":[{"type":"text","text":"x"}],"stop_reason":"\#(raw)","usage":{"input_tokens":1,"output_tokens":1}}"#
        #expect(try AnthropicAdapter.parseResponse(reply(200, body), apiKey: nil, nowUnixMillis: 0).get().finishReason == expected)
    }

    @Test func thinkingThatUsedTheWholeCapIsTruncated() {
        let body = """
            {"type":"message","role":"assistant","content":[{"type":"thinking","thinking":"...","signature":"s"}],\
            "stop_reason":"max_tokens","usage":{"input_tokens":10,"output_tokens":2048}}
            """
        #expect(AnthropicAdapter.parseResponse(reply(200, body), apiKey: nil, nowUnixMillis: 0).failure?.type == .truncated)
    }

    @Test func errorBodyWithSuccessStatusIsBadResponse() {
        let body = #"{"type":"error","error":{"type":"api_error","message":"Internal server error"}}"#
        let failure = AnthropicAdapter.parseResponse(reply(200, body), apiKey: nil, nowUnixMillis: 0).failure
        #expect(failure?.type == .badResponse)
    }

    @Test func missingContentIsBadResponse() {
        let body = #"{"id":"msg_1","type":"message","role":"assistant","stop_reason":"end_turn"}"#
        #expect(AnthropicAdapter.parseResponse(reply(200, body), apiKey: nil, nowUnixMillis: 0).failure?.type == .badResponse)
    }

    @Test func overloadedIsClassified() {
        let body = #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
        let failure = AnthropicAdapter.parseResponse(reply(529, body), apiKey: nil, nowUnixMillis: 0).failure
        #expect(failure == ProviderFailure(.overloaded, httpStatus: 529, message: "Overloaded"))
    }
}
