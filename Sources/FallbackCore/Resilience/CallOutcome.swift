/// What one finished call tells the breaker, the health window and the retry budget.
public struct CallOutcome: Sendable, Hashable {
    public var success: Bool
    /// `nil` on success.
    public var errorType: ErrorType?
    public var latencyMs: Int64

    public init(success: Bool, errorType: ErrorType?, latencyMs: Int64) {
        self.success = success
        self.errorType = errorType
        self.latencyMs = latencyMs
    }

    public static func success(latencyMs: Int64) -> CallOutcome {
        CallOutcome(success: true, errorType: nil, latencyMs: latencyMs)
    }

    public static func failure(_ type: ErrorType, latencyMs: Int64) -> CallOutcome {
        CallOutcome(success: false, errorType: type, latencyMs: latencyMs)
    }

    /// Whether the outcome says anything about the model's health (client cancellations,
    /// invalid requests, context-length and content-filter refusals do not).
    public var reflectsModelHealth: Bool { errorType?.reflectsModelHealth ?? true }
}
