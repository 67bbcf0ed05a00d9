/// One model of the pool: the seed's `ModelConfig` plus what a daemon needs.
public struct ModelConfig: Sendable, Hashable {
    /// The pool name chains refer to (`gpt-4o`).
    public var name: String
    /// The name of the `[providers.NAME]` entry that serves it.
    public var provider: String
    /// The id sent to the provider (`claude-3-5-sonnet-20241022`).
    public var modelID: String
    /// Lower is tried first when a chain is built from priorities.
    public var priority: Int
    /// The most output tokens a request may ask of this model.
    public var maxTokens: Int
    public var costPer1kInput: Double
    public var costPer1kOutput: Double
    public var notes: String
    /// Context window in tokens, 0 when unknown.
    public var contextWindow: Int
    /// Per-attempt timeout; `nil` uses the provider's.
    public var timeoutMs: Int64?

    public init(
        name: String, provider: String, modelID: String, priority: Int, maxTokens: Int,
        costPer1kInput: Double, costPer1kOutput: Double, notes: String = "",
        contextWindow: Int = 0, timeoutMs: Int64? = nil
    ) {
        self.name = name
        self.provider = provider
        self.modelID = modelID
        self.priority = priority
        self.maxTokens = maxTokens
        self.costPer1kInput = costPer1kInput
        self.costPer1kOutput = costPer1kOutput
        self.notes = notes
        self.contextWindow = contextWindow
        self.timeoutMs = timeoutMs
    }

    /// What `usage` costs on this model, in US dollars.
    public func cost(of usage: Usage) -> Double {
        Double(usage.inputTokens) / 1000 * costPer1kInput + Double(usage.outputTokens) / 1000 * costPer1kOutput
    }
}

/// Token counts of one call.
public struct Usage: Sendable, Hashable {
    public var inputTokens: Int
    public var outputTokens: Int

    public init(inputTokens: Int = 0, outputTokens: Int = 0) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
    }

    public static let zero = Usage()

    public static func + (lhs: Usage, rhs: Usage) -> Usage {
        Usage(inputTokens: lhs.inputTokens + rhs.inputTokens, outputTokens: lhs.outputTokens + rhs.outputTokens)
    }
}
