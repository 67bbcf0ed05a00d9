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
        #expect(call.body["max_completion_tokens"]?.intValue == 123)
        #expect(call.body["max_tokens"] == nil)
        #expect(call.body["temperature"]?.doubleValue == 0.7)
        #expect(strings(call.body["messages"], "role") == ["system", "user", "assistant", "system", "user"])
        #expect(strings(call.body["messages"], "content").last == "What is 2+2?")
        #expect(call.body.serialized.contains("\"temperature\":0.7"))
    }

    /// A request an agent sends (from OpenAI's API reference: tools, an image, a JSON schema, a seed,
    /// and `logprobs`, which fallbackd does not model) goes upstream member for member, with only the
    /// model and the output cap rewritten.
    @Test func passesTheCallersRequestThroughUnchanged() throws {
        let sent = """
            {"model":"whatever-the-app-had","messages":[{"role":"developer","content":"You are terse."},\
            {"role":"user","content":[{"type":"text","text":"What's in this image?"},\
            {"type":"image_url","image_url":{"url":"https://upload.wikimedia.org/boardwalk.jpg","detail":"low"}}]}],\
            "tools":[{"type":"function","function":{"name":"get_current_weather","description":"Get the current weather",\
            "parameters":{"type":"object","properties":{"location":{"type":"string"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},\
            "required":["location"]},"strict":true}}],"tool_choice":"auto","parallel_tool_calls":false,\
            "response_format":{"type":"json_schema","json_schema":{"name":"answer","schema":{"type":"object"},"strict":true}},\
            "seed":42,"top_p":0.9,"stop":["END"],"user":"u-1","logprobs":true,"top_logprobs":2,"max_tokens":300}
            """
        let request = try chatRequest(sent, model: testModel(id: "gpt-4o"))
        let call = OpenAIAdapter.makeRequest(request, settings: testSettings(.openai))
        var expected = try JSON.parse(sent)
        expected["model"] = "gpt-4o"
        expected["max_tokens"] = nil
        expected["max_completion_tokens"] = 300
        #expect(call.body == expected)
        #expect(request.chat.extra.map(\.key) == ["logprobs", "top_logprobs"])
        #expect(OpenAITranslation.ignoredFields(request).isEmpty)
    }

    @Test func reasoningModelsGetMaxCompletionTokensAndNoSampling() throws {
        let model = ModelConfig(
            name: "o3", provider: "openai", modelID: "o3-mini", maxTokens: 10_000, reasoning: true, defaultTemperature: 0.3)
        let request = try chatRequest(
            #"{"messages":[{"role":"user","content":"hi"}],"temperature":0.2,"top_p":0.5,"max_tokens":500,"reasoning_effort":"high"}"#,
            model: model)
        let body = OpenAIAdapter.makeRequest(request, settings: testSettings(.openai)).body
        #expect(body["max_completion_tokens"]?.intValue == 500)
        #expect(body["max_tokens"] == nil)
        #expect(body["temperature"] == nil && body["top_p"] == nil)
        #expect(body["reasoning_effort"]?.stringValue == "high")
        #expect(OpenAITranslation.ignoredFields(request) == ["temperature", "top_p"])
    }

    @Test func defaultTemperatureOnlyWhenTheCallerGaveNone() throws {
        let model = ModelConfig(name: "m", provider: "p", modelID: "gpt-4o-mini", defaultTemperature: 0.3)
        let none = try chatRequest(#"{"messages":[{"role":"user","content":"hi"}]}"#, model: model)
        #expect(OpenAIAdapter.makeRequest(none, settings: testSettings(.openai)).body["temperature"]?.doubleValue == 0.3)
        #expect(OpenAIAdapter.makeRequest(none, settings: testSettings(.openai)).body["max_completion_tokens"]?.intValue == 4096)
        let own = try chatRequest(#"{"messages":[{"role":"user","content":"hi"}],"temperature":1.1}"#, model: model)
        #expect(OpenAIAdapter.makeRequest(own, settings: testSettings(.openai)).body["temperature"]?.doubleValue == 1.1)
        let plain = try chatRequest(#"{"messages":[{"role":"user","content":"hi"}]}"#, model: testModel())
        #expect(OpenAIAdapter.makeRequest(plain, settings: testSettings(.openai)).body["temperature"] == nil)
    }

    @Test func compatibleServersGetMaxTokensAndTheStreamFlagIsNeverPassedOn() throws {
        let request = try chatRequest(
            #"{"messages":[{"role":"user","content":"hi"}],"max_completion_tokens":64,"stream":true,"stream_options":{"include_usage":true}}"#)
        let body = OpenAIAdapter.makeRequest(request, settings: testSettings(.openaiCompatible)).body
        #expect(body["max_tokens"]?.intValue == 64)
        #expect(body["max_completion_tokens"] == nil)
        #expect(body["stream"] == nil && body["stream_options"] == nil)
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
        #expect(response.finishReason == .stop)
        #expect(response.providerFinishReason == "stop")
        #expect(response.httpStatus == 200)
    }

    /// The API reference's function-calling reply: content null, two parallel tool calls.
    @Test func parsesToolCallsAndUsageDetails() throws {
        let body = """
            {"id":"chatcmpl-abc","object":"chat.completion","created":1699896916,"model":"gpt-4o-mini",\
            "choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[\
            {"id":"call_abc123","type":"function","function":{"name":"get_current_weather","arguments":"{\\"location\\": \\"Boston, MA\\"}"}},\
            {"id":"call_def456","type":"function","function":{"name":"get_current_weather","arguments":"{\\"location\\": \\"Paris\\"}"}}]},\
            "logprobs":null,"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":82,"completion_tokens":17,"total_tokens":99,\
            "prompt_tokens_details":{"cached_tokens":64},"completion_tokens_details":{"reasoning_tokens":5}}}
            """
        let response = try OpenAIAdapter.parseResponse(reply(200, body), apiKey: nil, nowUnixMillis: 0).get()
        #expect(response.message.content == nil)
        #expect(response.message.toolCalls == [
            ToolCall(id: "call_abc123", name: "get_current_weather", arguments: #"{"location": "Boston, MA"}"#),
            ToolCall(id: "call_def456", name: "get_current_weather", arguments: #"{"location": "Paris"}"#),
        ])
        #expect(response.finishReason == .toolCalls)
        #expect(response.usage == Usage(inputTokens: 82, outputTokens: 17, cachedInputTokens: 64, reasoningTokens: 5))
    }

    @Test func aRefusalIsServedWithTheRefusal() throws {
        let body = """
            {"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":null,\
            "refusal":"I'm sorry, I cannot assist with that request."},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":11}}
            """
        let response = try OpenAIAdapter.parseResponse(reply(200, body), apiKey: nil, nowUnixMillis: 0).get()
        #expect(response.message.refusal == "I'm sorry, I cannot assist with that request.")
        #expect(response.message.content == nil)
    }

    @Test func anEmptyAnswerCutByTheCapIsTruncatedButAPartialOneServes() throws {
        let empty = """
            {"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":""},\
            "finish_reason":"length"}],"usage":{"prompt_tokens":9,"completion_tokens":100,"completion_tokens_details":{"reasoning_tokens":100}}}
            """
        let failure = OpenAIAdapter.parseResponse(reply(200, empty), apiKey: nil, nowUnixMillis: 0).failure
        #expect(failure?.type == .truncated)
        #expect(failure?.usage.reasoningTokens == 100)
        let partial = empty.replacing(#""content":"""#, with: #""content":"Once upon""#)
        let served = try OpenAIAdapter.parseResponse(reply(200, partial), apiKey: nil, nowUnixMillis: 0).get()
        #expect(served.content == "Once upon")
        #expect(served.finishReason == .length)
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
        (#"{"id":"x","choices":[{"index":0,"message":{"role":"assistant"},"finish_reason":"stop"}]}"#, "no content"),
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
