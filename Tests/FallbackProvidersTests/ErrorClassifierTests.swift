import FallbackCore
import Testing

@testable import FallbackProviders

/// One row of the provider error mapping table.
struct ErrorCase: Sendable, CustomTestStringConvertible {
    var name: String
    var status: Int
    var body: String
    var headers: [(String, String)] = []
    var expected: ErrorType
    var retryAfterMs: Int64? = nil
    var message: String? = nil

    var testDescription: String { name }
}

private func openai(_ message: String, type: String, code: String?) -> String {
    let code = code.map { "\"\($0)\"" } ?? "null"
    return #"{"error":{"message":"\#(message)","type":"\#(type)","param":null,"code":\#(code)}}"#
}

private func anthropic(_ type: String, _ message: String) -> String {
    #"{"type":"error","error":{"type":"\#(type)","message":"\#(message)"}}"#
}

private func gemini(_ code: Int, _ status: String, _ message: String, details: String = "[]") -> String {
    #"{"error":{"code":\#(code),"message":"\#(message)","status":"\#(status)","details":\#(details)}}"#
}

let errorTable: [ErrorCase] = [
    // OpenAI
    ErrorCase(name: "openai 429 retry-after", status: 429, body: openai("Rate limit reached for gpt-4o", type: "requests", code: "rate_limit_exceeded"),
              headers: [("retry-after", "20")], expected: .rateLimited, retryAfterMs: 20_000, message: "Rate limit reached for gpt-4o"),
    ErrorCase(name: "openai 429 retry-after-ms wins", status: 429, body: openai("slow down", type: "requests", code: "rate_limit_exceeded"),
              headers: [("retry-after", "20"), ("retry-after-ms", "1500")], expected: .rateLimited, retryAfterMs: 1500),
    ErrorCase(name: "openai 429 insufficient_quota", status: 429,
              body: openai("You exceeded your current quota, please check your plan and billing details.", type: "insufficient_quota", code: "insufficient_quota"),
              expected: .quota),
    ErrorCase(name: "openai 400 reasoning model rejects max_tokens", status: 400,
              body: openai("Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
                           type: "invalid_request_error", code: "unsupported_parameter"),
              expected: .misconfigured),
    ErrorCase(name: "openai 400 unsupported temperature", status: 400,
              body: openai("Unsupported value: 'temperature' does not support 0.3 with this model. Only the default (1) value is supported.",
                           type: "invalid_request_error", code: "unsupported_value"),
              expected: .misconfigured),
    ErrorCase(name: "402 payment required", status: 402, body: openai("Payment required", type: "billing", code: nil), expected: .quota),
    ErrorCase(name: "openai 500", status: 500, body: openai("The server had an error", type: "server_error", code: nil), expected: .serverError),
    ErrorCase(name: "openai 503 plain", status: 503, body: openai("Service Unavailable", type: "server_error", code: nil), expected: .serverError),
    ErrorCase(name: "openai 503 overloaded", status: 503, body: openai("The engine is currently overloaded, please try again later", type: "server_error", code: nil),
              expected: .overloaded),
    ErrorCase(name: "openai 401", status: 401, body: openai("Incorrect API key provided: sk-abc***xyz.", type: "invalid_request_error", code: "invalid_api_key"),
              expected: .auth),
    ErrorCase(name: "openai context length", status: 400, body: openai("This model's maximum context length is 128000 tokens.", type: "invalid_request_error", code: "context_length_exceeded"),
              expected: .contextLength),
    ErrorCase(name: "openai content_filter", status: 400, body: openai("filtered", type: "invalid_request_error", code: "content_filter"), expected: .contentFilter),
    ErrorCase(name: "openai content_policy_violation", status: 400, body: openai("policy", type: "invalid_request_error", code: "content_policy_violation"),
              expected: .contentFilter),
    ErrorCase(name: "openai 400 plain", status: 400, body: openai("Invalid 'messages[0].role'", type: "invalid_request_error", code: nil), expected: .invalidRequest),
    ErrorCase(name: "openai 404 model", status: 404, body: openai("The model `gpt-9` does not exist", type: "invalid_request_error", code: "model_not_found"),
              expected: .misconfigured),
    // Anthropic
    ErrorCase(name: "anthropic 429", status: 429, body: anthropic("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"),
              headers: [("retry-after", "7")], expected: .rateLimited, retryAfterMs: 7000),
    ErrorCase(name: "anthropic 529", status: 529, body: anthropic("overloaded_error", "Overloaded"), expected: .overloaded, message: "Overloaded"),
    ErrorCase(name: "anthropic overloaded on 500", status: 500, body: anthropic("overloaded_error", "Overloaded"), expected: .overloaded),
    ErrorCase(name: "anthropic 500", status: 500, body: anthropic("api_error", "Internal server error"), expected: .serverError),
    ErrorCase(name: "anthropic 401", status: 401, body: anthropic("authentication_error", "invalid x-api-key"), expected: .auth),
    ErrorCase(name: "anthropic 403", status: 403, body: anthropic("permission_error", "not allowed"), expected: .auth),
    ErrorCase(name: "anthropic prompt too long", status: 400, body: anthropic("invalid_request_error", "prompt is too long: 208310 tokens > 200000 maximum"),
              expected: .contextLength),
    ErrorCase(name: "anthropic 400", status: 400, body: anthropic("invalid_request_error", "max_tokens: must be positive"), expected: .invalidRequest),
    ErrorCase(name: "anthropic 404", status: 404, body: anthropic("not_found_error", "model: claude-9"), expected: .misconfigured),
    ErrorCase(name: "anthropic 400 credit balance", status: 400,
              body: anthropic("invalid_request_error", "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits."),
              expected: .quota),
    ErrorCase(name: "anthropic 413", status: 413, body: anthropic("request_too_large", "Request exceeds the maximum size"), expected: .invalidRequest),
    // Gemini
    ErrorCase(name: "gemini 429 3s", status: 429, body: gemini(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted",
              details: #"[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"3s"}]"#), expected: .rateLimited, retryAfterMs: 3000),
    ErrorCase(name: "gemini 429 1.5s", status: 429, body: gemini(429, "RESOURCE_EXHAUSTED", "quota",
              details: #"[{"@type":"type.googleapis.com/google.rpc.QuotaFailure"},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1.5s"}]"#),
              expected: .rateLimited, retryAfterMs: 1500),
    ErrorCase(name: "gemini 400", status: 400, body: gemini(400, "INVALID_ARGUMENT", "Invalid JSON payload received."), expected: .invalidRequest),
    ErrorCase(name: "gemini 400 region", status: 400, body: gemini(400, "FAILED_PRECONDITION", "User location is not supported for the API use."),
              expected: .quota),
    ErrorCase(name: "gemini token count", status: 400, body: gemini(400, "INVALID_ARGUMENT", "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576)."),
              expected: .contextLength),
    ErrorCase(name: "gemini bad key", status: 400, body: gemini(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.",
              details: #"[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]"#), expected: .auth),
    ErrorCase(name: "gemini 403", status: 403, body: gemini(403, "PERMISSION_DENIED", "denied"), expected: .auth),
    ErrorCase(name: "gemini 500", status: 500, body: gemini(500, "INTERNAL", "An internal error has occurred."), expected: .serverError),
    ErrorCase(name: "gemini 503 overloaded", status: 503, body: gemini(503, "UNAVAILABLE", "The model is overloaded. Please try again later."), expected: .overloaded),
    ErrorCase(name: "gemini 503", status: 503, body: gemini(503, "UNAVAILABLE", "The service is currently unavailable."), expected: .serverError),
    // Generic
    ErrorCase(name: "502 html", status: 502, body: "<html><body>502 Bad Gateway</body></html>", expected: .serverError,
              message: "HTTP 502: <html><body>502 Bad Gateway</body></html>"),
    ErrorCase(name: "504 empty", status: 504, body: "", expected: .serverError, message: "HTTP 504"),
    ErrorCase(name: "422 detail", status: 422, body: #"{"detail":"field required"}"#, expected: .invalidRequest, message: "field required"),
    ErrorCase(name: "408", status: 408, body: "", expected: .timeout),
    ErrorCase(name: "compat string error", status: 400, body: #"{"error":"This model's maximum context length is 4096 tokens","type":"BadRequestError"}"#,
              expected: .contextLength),
    ErrorCase(name: "302", status: 302, body: "", expected: .badResponse),
]

@Suite struct ErrorClassifierTests {
    @Test(arguments: errorTable)
    func mapping(_ row: ErrorCase) {
        let failure = ProviderErrorClassifier.classify(
            reply(row.status, row.body, headers: row.headers), apiKey: secretKey, nowUnixMillis: fixedNowMillis)
        #expect(failure.type == row.expected)
        #expect(failure.httpStatus == row.status)
        #expect(failure.retryAfterMs == row.retryAfterMs)
        if let message = row.message { #expect(failure.message == message) }
        #expect(!failure.message.isEmpty)
    }

    @Test func failedCallUsageIsKept() {
        let body = #"{"error":{"message":"nope","type":"server_error"},"usage":{"prompt_tokens":10,"completion_tokens":3}}"#
        let failure = ProviderErrorClassifier.classify(reply(500, body), apiKey: nil, nowUnixMillis: 0)
        #expect(failure.usage == Usage(inputTokens: 10, outputTokens: 3))
    }

    @Test func messagesAreClipped() {
        let long = String(repeating: "word ", count: 200)
        let failure = ProviderErrorClassifier.classify(reply(400, openai(long, type: "x", code: nil)), apiKey: nil, nowUnixMillis: 0)
        #expect(failure.message.count == 300)
        #expect(failure.message.hasSuffix("…"))
    }
}
