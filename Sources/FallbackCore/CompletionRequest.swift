/// A chat message role.
public enum Role: String, Sendable, Hashable {
    case system, user, assistant
}

/// One chat message, provider-neutral.
public struct ChatMessage: Sendable, Hashable {
    public var role: Role
    public var content: String

    public init(role: Role, content: String) {
        self.role = role
        self.content = content
    }
}

/// A `complete` request after validation.
public struct CompletionRequest: Sendable {
    public var requestID: String
    public var messages: [ChatMessage]
    /// The task the caller named (`default` when none).
    public var task: String
    /// An explicit chain of pool names, replacing the task's chain.
    public var models: [String]?
    public var maxTokens: Int
    public var temperature: Double
    /// The overall deadline for every attempt together.
    public var timeoutMs: Int64
    /// The caller's metadata object as JSON text, kept with the call log.
    public var metadataJSON: String?
    /// `true` asks for a shadow call, `false` refuses one, `nil` leaves it to sampling.
    public var shadow: Bool?

    public static let defaultMaxTokens = 1000
    public static let defaultTemperature = 0.3
    public static let defaultTimeoutMs: Int64 = 30_000

    public init(
        requestID: String, messages: [ChatMessage], task: String = ModelPool.defaultChain, models: [String]? = nil,
        maxTokens: Int = CompletionRequest.defaultMaxTokens, temperature: Double = CompletionRequest.defaultTemperature,
        timeoutMs: Int64 = CompletionRequest.defaultTimeoutMs, metadataJSON: String? = nil
    ) {
        self.requestID = requestID
        self.messages = messages
        self.task = task
        self.models = models
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.timeoutMs = timeoutMs
        self.metadataJSON = metadataJSON
    }
}

/// What one model is asked: the same messages and guardrails whichever model serves.
public struct ProviderRequest: Sendable {
    public var model: ModelConfig
    public var messages: [ChatMessage]
    /// Already clipped to the model's `maxTokens`.
    public var maxTokens: Int
    public var temperature: Double
    /// When this attempt must be over: the smaller of the model's timeout and the request's deadline.
    public var deadline: Moment

    public init(model: ModelConfig, messages: [ChatMessage], maxTokens: Int, temperature: Double, deadline: Moment) {
        self.model = model
        self.messages = messages
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.deadline = deadline
    }
}

/// What a model answered.
public struct ProviderResponse: Sendable, Hashable {
    public var content: String
    public var usage: Usage
    public var httpStatus: Int?
    public var finishReason: String?

    public init(content: String, usage: Usage, httpStatus: Int? = 200, finishReason: String? = nil) {
        self.content = content
        self.usage = usage
        self.httpStatus = httpStatus
        self.finishReason = finishReason
    }
}

/// Calls a model. Implementations do the I/O; the router stays pure.
public protocol ModelInvoker: Sendable {
    /// Must return by `request.deadline` (with `.timeout`) and never throw.
    func invoke(_ request: ProviderRequest) async -> Result<ProviderResponse, ProviderFailure>
}
