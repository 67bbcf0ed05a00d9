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
        #expect(response.finishReason == "STOP")
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
