import FallbackCore
import FallbackRPC
import Testing

@testable import FallbackProviders

@Suite struct OpenAIAdapterTests {
    @Test func requestBodyAndHeaders() {
        let settings = testSettings(.openai)
        let call = OpenAIAdapter.makeRequest(
            testRequest(conversation, model: testModel(id: "gpt-4o"), maxTokens: 123, temperature: 0.7),
            settings: settings)
        #expect(call.url == "https://api.openai.com/v1/chat/completions")
        #expect(call.headers.first(name: "authorization") == "Bearer " + secretKey.reveal())
        #expect(call.headers.first(name: "content-type") == "application/json")
        #expect(call.body["model"]?.stringValue == "gpt-4o")
        #expect(call.body["max_tokens"]?.intValue == 123)
        #expect(call.body["temperature"]?.doubleValue == 0.7)
        #expect(strings(call.body["messages"], "role") == ["system", "user", "assistant", "system", "user"])
        #expect(strings(call.body["messages"], "content").last == "What is 2+2?")
        #expect(call.body.serialized.contains("\"temperature\":0.7"))
    }

    @Test func azureStyleKeyHeaderAndQuery() {
        var settings = testSettings(
            .openaiCompatible, baseURL: "https://example.openai.azure.com/openai/deployments/gpt-4o")
        settings.authHeader = "api-key"
        settings.query = "api-version=2024-06-01"
        let call = OpenAIAdapter.makeRequest(testRequest(conversation), settings: settings)
        #expect(call.url == "https://example.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-06-01")
        #expect(call.headers.first(name: "api-key") == secretKey.reveal())
        #expect(call.headers.first(name: "authorization") == nil)
    }

    @Test func compatibleWithoutKeySendsNoAuthorization() {
        let settings = testSettings(.openaiCompatible, key: nil, baseURL: "http://localhost:8000/v1/")
        let call = OpenAIAdapter.makeRequest(testRequest(conversation), settings: settings)
        #expect(call.url == "http://localhost:8000/v1/chat/completions")
        #expect(call.headers.first(name: "authorization") == nil)
    }

    @Test func parsesSuccess() throws {
        let body = """
            {"id":"chatcmpl-abc123","object":"chat.completion","created":1700000000,"model":"gpt-4o-2024-08-06",\
            "choices":[{"index":0,"message":{"role":"assistant","content":"Four."},"finish_reason":"stop"}],\
            "usage":{"prompt_tokens":12,"completion_tokens":40,"total_tokens":52}}
            """
        let response = try OpenAIAdapter.parseResponse(reply(200, body), apiKey: secretKey, nowUnixMillis: 0).get()
        #expect(response.content == "Four.")
        #expect(response.usage == Usage(inputTokens: 12, outputTokens: 40))
        #expect(response.finishReason == "stop")
        #expect(response.httpStatus == 200)
    }

    @Test func contentFilterFinishWithoutContent() {
        let body = """
            {"id":"chatcmpl-x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant",\
            "content":null},"finish_reason":"content_filter"}],"usage":{"prompt_tokens":9,"completion_tokens":0}}
            """
        let failure = OpenAIAdapter.parseResponse(reply(200, body), apiKey: nil, nowUnixMillis: 0).failure
        #expect(failure?.type == .contentFilter)
        #expect(failure?.usage == Usage(inputTokens: 9, outputTokens: 0))
    }

    @Test(arguments: [
        ("not json at all", "not JSON"),
        ("[1,2]", "not a JSON object"),
        (#"{"error":{"message":"upstream exploded","type":"server_error"}}"#, "upstream exploded"),
        (#"{"id":"x","choices":[]}"#, "no choices"),
        (#"{"id":"x","choices":[{"index":0,"message":{"role":"assistant"},"finish_reason":"stop"}]}"#, "no message"),
    ])
    func badSuccessBodies(body: String, expected: String) {
        let failure = OpenAIAdapter.parseResponse(reply(200, body), apiKey: nil, nowUnixMillis: 0).failure
        #expect(failure?.type == .badResponse)
        #expect(failure?.httpStatus == 200)
        #expect(failure?.message.contains(expected) == true, "\(failure?.message ?? "")")
    }

    @Test func errorStatusIsClassified() {
        let body = #"{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#
        let failure = OpenAIAdapter.parseResponse(
            reply(429, body, headers: [("retry-after", "2")]), apiKey: nil, nowUnixMillis: 0
        ).failure
        #expect(failure == ProviderFailure(.rateLimited, httpStatus: 429, message: "Rate limit reached", retryAfterMs: 2000))
    }
}
