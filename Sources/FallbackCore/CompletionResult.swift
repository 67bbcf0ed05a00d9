/// One attempt as the caller sees it in the result.
public struct AttemptSummary: Sendable, Hashable {
    public var model: String
    public var provider: String
    public var success: Bool
    public var errorType: ErrorType?
    public var httpStatus: Int?
    public var latencyMs: Int64
    public var usage: Usage
    public var costUSD: Double
    /// The provider's own words for a failure, already free of credentials.
    public var message: String?
    /// Streaming: whether this attempt's deltas reached the caller.
    public var committed = false
    /// Streaming: malformed events skipped after the commit.
    public var skippedEvents = 0
    /// Started beside a slower attempt of the same request (a hedge).
    public var hedged = false

    public init(
        model: String, provider: String, success: Bool, errorType: ErrorType?, httpStatus: Int?,
        latencyMs: Int64, usage: Usage, costUSD: Double, message: String?
    ) {
        self.model = model
        self.provider = provider
        self.success = success
        self.errorType = errorType
        self.httpStatus = httpStatus
        self.latencyMs = latencyMs
        self.usage = usage
        self.costUSD = costUSD
        self.message = message
    }
}

/// A served request: the seed's FallbackResult, plus what it cost and every attempt.
public struct CompletionResult: Sendable {
    public var requestID: String
    /// The served message whole: text, tool calls, refusal.
    public var message: AssistantMessage
    /// The model that served.
    public var model: ModelConfig
    public var task: String
    public var chain: String
    /// How many models were tried and failed before the one that served.
    public var fallbackCount: Int
    public var latencyMs: Int64
    public var attempts: [AttemptSummary]
    /// Tokens of the serving attempt.
    public var usage: Usage
    /// What every attempt of the request cost together.
    public var costUSD: Double
    /// What the chain's primary would have cost for the tokens that served.
    public var primaryCostUSD: Double
    /// `costUSD - primaryCostUSD`: what falling back (and failed attempts) cost extra; negative when it saved.
    public var fallbackCostDeltaUSD: Double { costUSD - primaryCostUSD }
    public var finishReason: FinishReason
    /// The serving provider's own reason (`end_turn`, `MAX_TOKENS`).
    public var providerFinishReason: String?
    /// Request fields the serving model went without.
    public var ignoredFields: [String]
    /// Every model of the chain with its place and why it was tried or passed over.
    public var route: [RouteStep]

    public var usedFallback: Bool { fallbackCount > 0 }
    /// The text, empty when there is none.
    public var content: String { message.content ?? "" }
}

/// A request no model served.
public struct RouteFailure: Error, Sendable {
    public enum Kind: Sendable, Hashable {
        /// Every model of the chain was tried and failed.
        case allModelsFailed
        /// The overall deadline passed before a model served.
        case deadlineExceeded
        /// The caller went away or the daemon is stopping.
        case cancelled
        /// Every model of the chain has an open breaker; the earliest reopens at `retryAt`.
        case allBreakersOpen(retryAt: Moment?)
        /// No model of the chain can take the request: it needs `capability`, which none has.
        case noCapableModel(Capability)
        /// The request (about `estimatedTokens` in and out) fits no model's context window.
        case contextTooLarge(estimatedTokens: Int)
        /// A stream broke after its first delta reached the caller (`on_interrupt: error`).
        case interrupted(model: String, failure: ProviderFailure, delivered: DeliveredPart)
        /// The provider refused the content; its reason goes back to the caller (the chain does not
        /// fall back on a content filter unless it says so).
        case contentFiltered(model: String, failure: ProviderFailure)
    }

    public var kind: Kind
    public var requestID: String
    public var task: String
    public var chain: String
    public var attempts: [AttemptSummary]
    public var latencyMs: Int64
    public var route: [RouteStep]
}
