/// One side of a shadow comparison: how a model did on the request.
public struct ShadowSide: Sendable, Hashable {
    public var model: String
    public var success: Bool
    public var errorType: ErrorType?
    public var latencyMs: Int64
    public var usage: Usage
    public var costUSD: Double
    /// Characters of the output (0 on failure).
    public var outputLength: Int
    /// The output itself, for the similarity; never stored.
    public var text: String

    public init(
        model: String, success: Bool, errorType: ErrorType?, latencyMs: Int64, usage: Usage, costUSD: Double,
        outputLength: Int, text: String = ""
    ) {
        self.text = text
        self.model = model
        self.success = success
        self.errorType = errorType
        self.latencyMs = latencyMs
        self.usage = usage
        self.costUSD = costUSD
        self.outputLength = outputLength
    }
}

/// A shadow call's outcome stored beside the primary's (`shadow_results` table).
public struct ShadowResult: Sendable, Hashable {
    public var requestID: String
    public var task: String
    /// When the request started.
    public var startedAtMillis: Int64
    /// The model that served the caller.
    public var primary: ShadowSide
    /// The backup model that ran in parallel.
    public var shadow: ShadowSide
    /// Token-set similarity of the two outputs, 0...1; `nil` when either side failed.
    public var similarity: Double?

    public init(requestID: String, task: String, startedAtMillis: Int64, primary: ShadowSide, shadow: ShadowSide, similarity: Double?) {
        self.requestID = requestID
        self.task = task
        self.startedAtMillis = startedAtMillis
        self.primary = primary
        self.shadow = shadow
        self.similarity = similarity
    }
}
