/// One attempt on one model, as kept in the call log (the seed's `model_calls` row, extended).
public struct AttemptRecord: Sendable, Hashable {
    public var requestID: String
    public var task: String
    /// The chain that ran (`default` for unknown tasks, `explicit` for a caller's own list).
    public var chain: String
    /// Pool name of the model.
    public var model: String
    public var provider: String
    /// 0 for the first attempt of a request.
    public var attemptIndex: Int
    /// Wall-clock start of the attempt.
    public var startedAtMillis: Int64
    public var latencyMs: Int64
    public var success: Bool
    /// `nil` on success.
    public var errorType: ErrorType?
    public var httpStatus: Int?
    public var usage: Usage
    public var costUSD: Double
    /// The caller's metadata object as JSON text.
    public var metadataJSON: String?
    /// On the attempt that served a request: models of the configured chain passed over. `nil` otherwise.
    public var fallbackCount: Int?
    /// On the attempt that served a request: what the chain's primary would have cost for the same tokens.
    public var primaryCostUSD: Double?
    /// A shadow call (sampled traffic on a backup model), not part of the caller's request.
    public var shadow: Bool = false
    /// Started beside a slower attempt of the same request (a hedge).
    public var hedged: Bool = false
    /// Streaming: milliseconds from the attempt's start to its first answer delta.
    public var firstTokenMs: Int64?
    /// Who asked: the calling app's name (its `[apps.NAME]` rule, else its executable); `nil` when unknown.
    public var app: String?

    /// Whether this attempt served its request (the caller got its content).
    public var served: Bool { success && !shadow }

    public init(
        requestID: String, task: String, chain: String, model: String, provider: String, attemptIndex: Int,
        startedAtMillis: Int64, latencyMs: Int64, success: Bool, errorType: ErrorType?, httpStatus: Int?,
        usage: Usage, costUSD: Double, metadataJSON: String?
    ) {
        self.requestID = requestID
        self.task = task
        self.chain = chain
        self.model = model
        self.provider = provider
        self.attemptIndex = attemptIndex
        self.startedAtMillis = startedAtMillis
        self.latencyMs = latencyMs
        self.success = success
        self.errorType = errorType
        self.httpStatus = httpStatus
        self.usage = usage
        self.costUSD = costUSD
        self.metadataJSON = metadataJSON
    }
}

/// Receives every attempt the moment it ends. Must not block: the call log buffers in memory.
public protocol OutcomeRecorder: Sendable {
    func record(_ attempt: AttemptRecord)
}

/// Hands each attempt to several recorders (call log, health, breakers).
public struct FanOutRecorder: OutcomeRecorder {
    public var recorders: [any OutcomeRecorder]

    public init(_ recorders: [any OutcomeRecorder]) { self.recorders = recorders }

    public func record(_ attempt: AttemptRecord) {
        for recorder in recorders { recorder.record(attempt) }
    }
}
