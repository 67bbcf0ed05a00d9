import FallbackCore
import FallbackRPC
import NIOCore
import NIOHTTP1

/// Maps provider replies onto fallbackd's ``ErrorType`` taxonomy, in one place for every adapter.
/// Understands the OpenAI, Anthropic and Gemini error bodies (and the loose shapes
/// OpenAI-compatible servers send); messages are redacted and clipped.
public enum ProviderErrorClassifier {
    /// What an error body says, in any of the supported dialects.
    public struct ErrorDetails: Sendable, Hashable {
        /// The human message (`error.message`, or a bare `error`/`message`/`detail` string).
        public var message: String?
        /// OpenAI's `error.type`, Anthropic's `error.type`.
        public var type: String?
        /// OpenAI's `error.code`, Gemini's `error.status`.
        public var code: String?
        /// Gemini `ErrorInfo.reason`s (`API_KEY_INVALID`).
        public var reasons: [String]
        /// Gemini `RetryInfo.retryDelay`, in milliseconds.
        public var retryDelayMs: Int64?
        /// Usage reported alongside the error.
        public var usage: Usage?
    }

    /// Classifies a reply whose status is not 2xx. `nowUnixMillis` resolves `retry-after` HTTP-dates.
    public static func classify(_ reply: HTTPReply, apiKey: APIKey?, nowUnixMillis: Int64) -> ProviderFailure {
        let json = ProviderText.parseJSON(reply.body)
        let details = json.map(errorDetails(in:))
        let status = reply.status
        let type = errorType(status: status, details: details)
        var retryAfter: Int64? = nil
        if type == .rateLimited || type == .overloaded || type == .serverError {
            retryAfter =
                RetryAfter.milliseconds(headers: reply.headers, nowUnixMillis: nowUnixMillis)
                ?? details?.retryDelayMs
        }
        let text: String
        if let message = details?.message, !message.isEmpty {
            text = message
        } else if json == nil, reply.body.readableBytes > 0 {
            text = "HTTP \(status): \(ProviderText.snippet(reply.body))"
        } else {
            text = "HTTP \(status)"
        }
        return ProviderFailure(
            type, httpStatus: status, message: ProviderText.sanitize(text, apiKey: apiKey),
            retryAfterMs: retryAfter, usage: details?.usage ?? .zero
        )
    }

    /// A 2xx reply that carries no usable answer: `bad_response` with a sanitized message.
    public static func badResponse(_ text: String, reply: HTTPReply, apiKey: APIKey?, usage: Usage = .zero)
        -> ProviderFailure
    {
        ProviderFailure(
            .badResponse, httpStatus: reply.status, message: ProviderText.sanitize(text, apiKey: apiKey), usage: usage)
    }

    /// The error type for a status and what the body says.
    public static func errorType(status: Int, details: ErrorDetails?) -> ErrorType {
        let type = details?.type?.lowercased() ?? ""
        let message = details?.message?.lowercased() ?? ""
        if isQuota(status: status, details: details) { return .quota }
        switch status {
        case 429:
            return .rateLimited
        case 529:
            return .overloaded
        case _ where type == "overloaded_error":
            return .overloaded
        case 503:
            return message.contains("overloaded") ? .overloaded : .serverError
        case 500...599:
            return .serverError
        case 408:
            return .timeout
        case 401, 403:
            return .auth
        case 404:
            // The model id is unknown (or not available to this key): the config names a model that is not there.
            return .misconfigured
        case 400...499:
            guard let details else { return .invalidRequest }
            if isContextLength(details) { return .contextLength }
            if isContentFilter(details) { return .contentFilter }
            if details.reasons.contains("API_KEY_INVALID") || message.contains("api key not valid") { return .auth }
            if isRejectedParameter(details) { return .misconfigured }
            return .invalidRequest
        default:
            return .badResponse
        }
    }

    /// The type of an error event inside a stream (there is no HTTP status to go by).
    static func streamErrorType(_ details: ErrorDetails) -> ErrorType {
        let type = (details.type ?? "").lowercased()
        let code = (details.code ?? "").lowercased()
        let message = (details.message ?? "").lowercased()
        if type == "overloaded_error" || code == "unavailable" || message.contains("overloaded") { return .overloaded }
        if type.contains("rate_limit") || code == "resource_exhausted" { return .rateLimited }
        if type == "invalid_request_error" || code == "invalid_argument" { return .invalidRequest }
        return .serverError
    }

    /// Whether the account cannot pay or may not call from here: OpenAI's `insufficient_quota` 429,
    /// a 402, a billing 400/403 (Anthropic's "credit balance is too low"), Gemini's FAILED_PRECONDITION
    /// (billing not enabled, region not supported).
    static func isQuota(status: Int, details: ErrorDetails?) -> Bool {
        if status == 402 { return true }
        guard let details, (400...499).contains(status) else { return false }
        let code = (details.code ?? "").lowercased()
        let type = (details.type ?? "").lowercased()
        if code == "insufficient_quota" || type == "insufficient_quota" || code == "billing_hard_limit_reached" { return true }
        if code == "failed_precondition" { return true }
        guard status != 429 else { return false }
        let message = details.message?.lowercased() ?? ""
        return message.contains("credit balance") || message.contains("billing") || message.contains("payment required")
            || message.contains("location is not supported")
    }

    /// Whether a 400 says this model rejects a parameter fallbackd sent (`max_tokens` to a reasoning
    /// model, an unsupported temperature): the model's config is wrong, not the caller's request.
    static func isRejectedParameter(_ details: ErrorDetails) -> Bool {
        let code = (details.code ?? "").lowercased()
        if code == "unsupported_parameter" || code == "unsupported_value" { return true }
        let message = details.message?.lowercased() ?? ""
        return message.contains("unsupported parameter") || message.contains("not supported with this model")
            || message.contains("unsupported value") || message.contains("does not support")
    }

    /// Whether the error says the prompt does not fit the context window.
    static func isContextLength(_ details: ErrorDetails) -> Bool {
        if details.code == "context_length_exceeded" { return true }
        let message = details.message?.lowercased() ?? ""
        return message.contains("prompt is too long")  // Anthropic
            || message.contains("maximum context length")  // OpenAI, vLLM
            || message.contains("context_length_exceeded")
            || message.contains("context window")
            || (message.contains("token count") && message.contains("exceeds the maximum"))  // Gemini
            || message.contains("exceeds the maximum number of tokens")
    }

    /// Whether the error says the content was refused.
    static func isContentFilter(_ details: ErrorDetails) -> Bool {
        let codes: Set<String> = ["content_filter", "content_policy_violation", "responsibleaipolicyviolation"]
        if codes.contains(details.code?.lowercased() ?? "") || codes.contains(details.type?.lowercased() ?? "") { return true }
        // Anthropic says it in words only: 400 invalid_request_error "Output blocked by content filtering policy".
        let message = (details.message ?? "").lowercased()
        return message.contains("content filtering policy") || message.contains("blocked by content filter")
    }

    /// Reads an error body in any supported dialect.
    public static func errorDetails(in json: JSON) -> ErrorDetails {
        var details = ErrorDetails(reasons: [])
        details.usage = ProviderText.usage(in: json)
        guard let error = json["error"], !error.isNull else {
            details.message = json["message"]?.stringValue ?? json["detail"]?.stringValue
            return details
        }
        if let text = error.stringValue {
            details.message = text
            details.type = json["type"]?.stringValue
            return details
        }
        details.message = error["message"]?.stringValue
        details.type = error["type"]?.stringValue
        details.code = error["code"]?.stringValue ?? error["status"]?.stringValue ?? error["code"]?.intValue.map(String.init)
        for detail in error["details"]?.arrayValue ?? [] {
            if let reason = detail["reason"]?.stringValue { details.reasons.append(reason) }
            if let delay = detail["retryDelay"]?.stringValue, let millis = RetryAfter.milliseconds(protobufDuration: delay) {
                details.retryDelayMs = millis
            }
        }
        return details
    }
}
