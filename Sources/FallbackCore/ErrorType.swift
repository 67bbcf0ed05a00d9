/// The one taxonomy every provider's failures are normalised into.
public enum ErrorType: String, Sendable, CaseIterable, Hashable {
    /// HTTP 429; may carry a retry-after.
    case rateLimited = "rate_limited"
    /// Anthropic's 529 and other "try later" signals.
    case overloaded
    /// Other 5xx.
    case serverError = "server_error"
    /// The attempt ran out of time.
    case timeout
    /// Could not connect, or the connection broke.
    case connection
    /// 401/403: the key is missing, wrong or not allowed.
    case auth
    /// 400 and other 4xx the request itself caused.
    case invalidRequest = "invalid_request"
    /// The prompt does not fit the model's context.
    case contextLength = "context_length"
    /// The provider refused the content.
    case contentFilter = "content_filter"
    /// 2xx with an error body, no content, or unparsable JSON.
    case badResponse = "bad_response"
    /// The caller went away or the daemon is stopping.
    case cancelled
    /// The account is out of credit or not allowed here (billing, region): stop asking until the config changes.
    case quota
    /// The model rejects what fallbackd sends it (an unsupported parameter, an unknown model id):
    /// a configuration problem that counts against the model.
    case misconfigured
    /// The output cap cut the answer before any content (all of it went to reasoning, say).
    case truncated
    /// fallbackd's own limit, not the provider: every connection it allows to the provider was busy,
    /// or it ran out of file descriptors. The chain moves on; the model's breaker and health are untouched.
    case localCapacity = "local_capacity"

    /// Whether trying the same model again could help.
    public var isRetryable: Bool {
        switch self {
        case .rateLimited, .overloaded, .serverError, .timeout, .connection: true
        default: false
        }
    }

    /// Whether the outcome says something about the model's health.
    public var reflectsModelHealth: Bool {
        switch self {
        case .cancelled, .invalidRequest, .contextLength, .contentFilter, .truncated, .localCapacity: false
        default: true
        }
    }

    /// Failures that open the breaker at once, for the misconfiguration period: asking again
    /// cannot help until someone fixes the key, the account or the config.
    public var opensAtOnce: Bool { self == .auth || self == .quota }
}

/// A failed provider call, already classified. `message` never contains credentials.
public struct ProviderFailure: Error, Sendable, Hashable {
    public var type: ErrorType
    public var httpStatus: Int?
    public var message: String
    /// What the provider asked us to wait before retrying, when it said.
    public var retryAfterMs: Int64?
    /// Tokens the provider billed for the failed call, when it said.
    public var usage: Usage
    /// Streaming: malformed events skipped after the first delta, before it broke.
    public var skippedEvents = 0

    public init(_ type: ErrorType, httpStatus: Int? = nil, message: String, retryAfterMs: Int64? = nil, usage: Usage = .zero) {
        self.type = type
        self.httpStatus = httpStatus
        self.message = message
        self.retryAfterMs = retryAfterMs
        self.usage = usage
    }
}
