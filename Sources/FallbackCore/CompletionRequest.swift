/// A `complete` request after validation: the chat request in OpenAI's schema plus fallbackd's own fields.
public struct CompletionRequest: Sendable {
    public var requestID: String
    /// What the caller asks of a model, in the lingua franca every translation starts from.
    public var chat: ChatRequest
    /// The task the caller named (`default` when none).
    public var task: String
    /// An explicit chain of pool names, replacing the task's chain.
    public var models: [String]?
    /// The overall deadline for every attempt together.
    public var timeoutMs: Int64
    /// The caller's metadata object as JSON text, kept with the call log.
    public var metadataJSON: String?
    /// `true` asks for a shadow call, `false` refuses one, `nil` leaves it to sampling.
    public var shadow: Bool?
    /// Streaming: what a failure after the first delta does.
    public var onInterrupt: InterruptPolicy = .error
    /// The calling app (from the socket peer's credentials), kept with every attempt.
    public var app: String?

    public static let defaultTimeoutMs: Int64 = 30_000

    public init(
        requestID: String, chat: ChatRequest, task: String = ModelPool.defaultChain, models: [String]? = nil,
        timeoutMs: Int64 = CompletionRequest.defaultTimeoutMs, metadataJSON: String? = nil
    ) {
        self.requestID = requestID
        self.chat = chat
        self.task = task
        self.models = models
        self.timeoutMs = timeoutMs
        self.metadataJSON = metadataJSON
    }

    /// A plain conversation (the seed's shape).
    public init(
        requestID: String, messages: [ChatMessage], task: String = ModelPool.defaultChain, models: [String]? = nil,
        timeoutMs: Int64 = CompletionRequest.defaultTimeoutMs, metadataJSON: String? = nil
    ) {
        self.init(
            requestID: requestID, chat: ChatRequest(messages: messages), task: task, models: models, timeoutMs: timeoutMs,
            metadataJSON: metadataJSON)
    }
}

/// What one model is asked: the same messages and guardrails whichever model serves.
public struct ProviderRequest: Sendable {
    public var model: ModelConfig
    public var chat: ChatRequest
    /// The output cap for this model: the caller's, clipped to the model's `max_tokens`, or the
    /// model's own when the caller set none.
    public var maxOutputTokens: Int
    /// When this attempt must be over: the smaller of the model's timeout and the request's deadline.
    public var deadline: Moment

    public init(model: ModelConfig, chat: ChatRequest, maxOutputTokens: Int? = nil, deadline: Moment) {
        self.model = model
        self.chat = chat
        self.maxOutputTokens = min(maxOutputTokens ?? chat.maxOutputTokens ?? model.maxTokens, model.maxTokens)
        self.deadline = deadline
    }

    /// The temperature to send: the caller's, else the model's configured default; never to a
    /// reasoning model, which rejects it.
    public var temperature: Double? {
        model.reasoning ? nil : (chat.temperature ?? model.defaultTemperature)
    }
}

/// What a model answered.
public struct ProviderResponse: Sendable, Hashable {
    public var message: AssistantMessage
    public var finishReason: FinishReason
    /// The provider's own word for why it stopped (`end_turn`, `MAX_TOKENS`).
    public var providerFinishReason: String?
    public var usage: Usage
    public var httpStatus: Int?
    /// Request fields this model could not take and went without (advisory ones, and fields
    /// outside the schema when the model is not OpenAI-family).
    public var ignoredFields: [String]
    /// Streaming: malformed events skipped after the first delta.
    public var skippedEvents = 0

    public init(
        message: AssistantMessage, finishReason: FinishReason = .stop, providerFinishReason: String? = nil,
        usage: Usage, httpStatus: Int? = 200, ignoredFields: [String] = []
    ) {
        self.message = message
        self.finishReason = finishReason
        self.providerFinishReason = providerFinishReason
        self.usage = usage
        self.httpStatus = httpStatus
        self.ignoredFields = ignoredFields
    }

    /// A plain text answer.
    public init(content: String, usage: Usage, httpStatus: Int? = 200, finishReason: FinishReason = .stop) {
        self.init(message: AssistantMessage(content: content), finishReason: finishReason, usage: usage, httpStatus: httpStatus)
    }

    /// The text, empty when there is none.
    public var content: String { message.content ?? "" }
}

/// Calls a model. Implementations do the I/O; the router stays pure.
public protocol ModelInvoker: Sendable {
    /// Must return by `request.deadline` (with `.timeout`) and never throw.
    func invoke(_ request: ProviderRequest) async -> Result<ProviderResponse, ProviderFailure>
    /// Streams the answer: each delta goes to `receiver` as it arrives, and the whole answer is
    /// returned at the end. The default calls ``invoke(_:)`` and hands over the answer in one delta.
    func stream(_ request: ProviderRequest, to receiver: any DeltaReceiver) async -> Result<ProviderResponse, ProviderFailure>
}
