import FallbackCore
import FallbackRPC
import Testing

@testable import FallbackProviders

@Suite struct AnthropicAdapterTests {
    @Test func requestSplitsSystemMessages() {
        var settings = testSettings(.anthropic)
        settings.anthropicVersion = "2023-06-01"
        let call = AnthropicAdapter.makeRequest(
            testRequest(conversation, model: testModel(id: "claude-3-5-sonnet-20241022"), maxTokens: 512),
            settings: settings)
        #expect(call.url == "https://api.anthropic.com/v1/messages")
        #expect(call.headers.first(name: "x-api-key") == secretKey.reveal())
        #expect(call.headers.first(name: "anthropic-version") == "2023-06-01")
        #expect(call.headers.first(name: "content-type") == "application/json")
        #expect(call.headers.first(name: "authorization") == nil)
        #expect(call.body["model"]?.stringValue == "claude-3-5-sonnet-20241022")
        #expect(call.body["max_tokens"]?.intValue == 512)
        #expect(call.body["system"]?.stringValue == "Be terse.\n\nAnswer in English.")
        #expect(strings(call.body["messages"], "role") == ["user", "assistant", "user"])
        #expect(strings(call.body["messages"], "content") == ["Hi", "Hello.", "What is 2+2?"])
    }

    @Test func noSystemFieldWithoutSystemMessagesAndTemperatureClamped() {
        let call = AnthropicAdapter.makeRequest(
            testRequest([ChatMessage(role: .user, content: "x")], temperature: 1.7), settings: testSettings(.anthropic))
        #expect(call.body["system"] == nil)
        #expect(call.body["temperature"]?.doubleValue == 1.0)
    }

    @Test func parsesSuccess() throws {
        let body = """
            {"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude-3-5-sonnet-20241022",\
            "content":[{"type":"text","text":"Four"},{"type":"tool_use","id":"t","name":"n","input":{}},\
            {"type":"text","text":"."}],"stop_reason":"end_turn","stop_sequence":null,\
            "usage":{"input_tokens":21,"output_tokens":5}}
            """
        let response = try AnthropicAdapter.parseResponse(reply(200, body), apiKey: secretKey, nowUnixMillis: 0).get()
        #expect(response.content == "Four.")
        #expect(response.usage == Usage(inputTokens: 21, outputTokens: 5))
        #expect(response.finishReason == "end_turn")
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
