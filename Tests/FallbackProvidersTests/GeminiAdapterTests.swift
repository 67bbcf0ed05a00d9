import FallbackCore
import FallbackRPC
import Testing

@testable import FallbackProviders

@Suite struct GeminiAdapterTests {
    @Test func keyInHeaderNeverInURL() {
        let call = GeminiAdapter.makeRequest(
            testRequest(conversation, model: testModel(id: "gemini-1.5-pro"), maxTokens: 77, temperature: 0.2),
            settings: testSettings(.gemini))
        #expect(call.url == "https://generativelanguage.googleapis.com/v1beta/models/gemini-1.5-pro:generateContent")
        #expect(!call.url.contains(secretKey.reveal()))
        #expect(!call.url.contains("key="))
        #expect(call.headers.first(name: "x-goog-api-key") == secretKey.reveal())
        #expect(call.headers.first(name: "authorization") == nil)
    }

    @Test func bodyShape() {
        let call = GeminiAdapter.makeRequest(
            testRequest(conversation, maxTokens: 77, temperature: 0.2), settings: testSettings(.gemini))
        let contents = call.body["contents"]?.arrayValue ?? []
        #expect(contents.map { $0["role"]?.stringValue ?? "" } == ["user", "model", "user"])
        #expect(contents.map { $0["parts"]?[0]?["text"]?.stringValue ?? "" } == ["Hi", "Hello.", "What is 2+2?"])
        #expect(strings(call.body["systemInstruction"]?["parts"], "text") == ["Be terse.", "Answer in English."])
        #expect(call.body["generationConfig"]?["maxOutputTokens"]?.intValue == 77)
        #expect(call.body["generationConfig"]?["temperature"]?.doubleValue == 0.2)
        let plain = GeminiAdapter.makeRequest(testRequest([ChatMessage(role: .user, content: "x")]), settings: testSettings(.gemini))
        #expect(plain.body["systemInstruction"] == nil)
    }

    /// The same tool conversation as Anthropic's test: functionCall parts for the calls, functionResponse
    /// parts named after the call each result answers (Gemini has no call ids), in one user turn.
    @Test func toolConversationRoundTrip() throws {
        let request = try chatRequest("""
            {"messages":[{"role":"user","content":"Weather in Boston and Paris?"},\
            {"role":"assistant","content":null,"tool_calls":[\
            {"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\\"city\\":\\"Boston\\"}"}},\
            {"id":"call_2","type":"function","function":{"name":"get_weather","arguments":"{\\"city\\":\\"Paris\\"}"}}]},\
            {"role":"tool","tool_call_id":"call_1","content":"{\\"temp_c\\":22}"},{"role":"tool","tool_call_id":"call_2","content":"rain"}],\
            "tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather",\
            "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}],\
            "tool_choice":{"type":"function","function":{"name":"get_weather"}}}
            """)
        let body = GeminiTranslation.body(request)
        #expect(body["contents"] == (try JSON.parse("""
            [{"role":"user","parts":[{"text":"Weather in Boston and Paris?"}]},\
            {"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Boston"}}},\
            {"functionCall":{"name":"get_weather","args":{"city":"Paris"}}}]},\
            {"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"temp_c":22}}},\
            {"functionResponse":{"name":"get_weather","response":{"content":"rain"}}}]}]
            """)))
        #expect(body["tools"] == (try JSON.parse("""
            [{"functionDeclarations":[{"name":"get_weather","description":"Current weather",\
            "parametersJsonSchema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}]}]
            """)))
        #expect(body["toolConfig"] == (try JSON.parse(#"{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["get_weather"]}}"#)))
    }

    @Test func partsAndGenerationConfig() throws {
        let request = try chatRequest("""
            {"messages":[{"role":"user","content":[{"type":"text","text":"Describe."},\
            {"type":"image_url","image_url":{"url":"data:image/jpeg;base64,/9j/4AAQ"}},\
            {"type":"image_url","image_url":{"url":"https://example.com/x.png"}},\
            {"type":"input_audio","input_audio":{"data":"UklGRg==","format":"wav"}}]}],\
            "stop":"END","top_p":0.8,"seed":7,"presence_penalty":0.5,"frequency_penalty":0,"max_completion_tokens":900,\
            "response_format":{"type":"json_schema","json_schema":{"name":"d","schema":{"type":"object","properties":{"x":{"type":"string"}}}}},\
            "reasoning_effort":"low","user":"u1"}
            """)
        let body = GeminiTranslation.body(request)
        #expect(body["contents"]?[0]?["parts"] == (try JSON.parse("""
            [{"text":"Describe."},{"inlineData":{"mimeType":"image/jpeg","data":"/9j/4AAQ"}},\
            {"fileData":{"mimeType":"image/png","fileUri":"https://example.com/x.png"}},\
            {"inlineData":{"mimeType":"audio/wav","data":"UklGRg=="}}]
            """)))
        #expect(body["generationConfig"] == (try JSON.parse("""
            {"maxOutputTokens":900,"topP":0.8,"stopSequences":["END"],"seed":7,"presencePenalty":0.5,\
            "responseMimeType":"application/json","responseJsonSchema":{"type":"object","properties":{"x":{"type":"string"}}},\
            "thinkingConfig":{"thinkingBudget":2048}}
            """)))
        #expect(GeminiTranslation.ignoredFields(request) == ["user"])
    }

    @Test func parsesFunctionCallsWithMadeUpIdsAndThinkingUsage() throws {
        let body = """
            {"candidates":[{"content":{"parts":[{"text":"thinking...","thought":true},\
            {"functionCall":{"name":"get_weather","args":{"city":"Boston"}}},{"functionCall":{"name":"get_weather","args":{"city":"Paris"}}}],\
            "role":"model"},"finishReason":"STOP","index":0}],\
            "usageMetadata":{"promptTokenCount":70,"candidatesTokenCount":12,"thoughtsTokenCount":30,"cachedContentTokenCount":40,"totalTokenCount":112}}
            """
        let response = try GeminiAdapter.parseResponse(reply(200, body), apiKey: nil, nowUnixMillis: 0).get()
        #expect(response.message.content == nil)
        #expect(response.message.toolCalls == [
            ToolCall(id: "call_0", name: "get_weather", arguments: #"{"city":"Boston"}"#),
            ToolCall(id: "call_1", name: "get_weather", arguments: #"{"city":"Paris"}"#),
        ])
        #expect(response.finishReason == .toolCalls)
        #expect(response.usage == Usage(inputTokens: 70, outputTokens: 42, cachedInputTokens: 40, reasoningTokens: 30))
    }

    @Test func thinkingThatUsedTheWholeBudgetIsTruncatedNotBad() {
        let body = """
            {"candidates":[{"content":{"role":"model"},"finishReason":"MAX_TOKENS","index":0}],\
            "usageMetadata":{"promptTokenCount":10,"thoughtsTokenCount":1000,"totalTokenCount":1010}}
            """
        let failure = GeminiAdapter.parseResponse(reply(200, body), apiKey: nil, nowUnixMillis: 0).failure
        #expect(failure?.type == .truncated)
        #expect(failure?.usage.reasoningTokens == 1000)
    }

    @Test func malformedFunctionCallIsBadResponse() {
        let body = #"{"candidates":[{"content":{"role":"model"},"finishReason":"MALFORMED_FUNCTION_CALL"}]}"#
        #expect(GeminiAdapter.parseResponse(reply(200, body), apiKey: nil, nowUnixMillis: 0).failure?.type == .badResponse)
    }

    @Test func modelIDIsOnePathSegment() {
        #expect(GeminiAdapter.pathSegment("models/gemini-2.0-flash") == "gemini-2.0-flash")
        #expect(GeminiAdapter.pathSegment("a/b?c") == "a%2Fb%3Fc")
    }

    @Test func parsesSuccess() throws {
        let body = """
            {"candidates":[{"content":{"parts":[{"text":"Four"},{"text":"."}],"role":"model"},"finishReason":"STOP",\
            "index":0}],"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":2,"totalTokenCount":10}}
            """
        let response = try GeminiAdapter.parseResponse(reply(200, body), apiKey: secretKey, nowUnixMillis: 0).get()
        #expect(response.content == "Four.")
        #expect(response.usage == Usage(inputTokens: 8, outputTokens: 2))
        #expect(response.finishReason == .stop)
        #expect(response.providerFinishReason == "STOP")
    }

    @Test(arguments: [
        #"{"promptFeedback":{"blockReason":"SAFETY"}}"#,
        #"{"candidates":[{"finishReason":"SAFETY","index":0}],"usageMetadata":{"promptTokenCount":5}}"#,
        #"{"candidates":[{"content":{"role":"model"},"finishReason":"PROHIBITED_CONTENT"}]}"#,
        #"{"candidates":[{"finishReason":"BLOCKLIST"}]}"#,
    ])
    func blockedIsContentFilter(body: String) {
        let failure = GeminiAdapter.parseResponse(reply(200, body), apiKey: nil, nowUnixMillis: 0).failure
        #expect(failure?.type == .contentFilter)
    }

    @Test func noCandidatesIsBadResponse() {
        let failure = GeminiAdapter.parseResponse(reply(200, #"{"usageMetadata":{"promptTokenCount":3}}"#), apiKey: nil, nowUnixMillis: 0).failure
        #expect(failure?.type == .badResponse)
        #expect(failure?.usage == Usage(inputTokens: 3, outputTokens: 0))
    }

    @Test func rateLimitUsesRetryDelay() {
        let body = """
            {"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED",\
            "details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"3s"}]}}
            """
        let failure = GeminiAdapter.parseResponse(reply(429, body), apiKey: nil, nowUnixMillis: 0).failure
        #expect(failure?.type == .rateLimited)
        #expect(failure?.retryAfterMs == 3000)
    }
}
