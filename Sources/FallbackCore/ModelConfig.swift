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
    /// The most output tokens a request may ask of this model (`max_tokens`, `max_output_tokens`).
    public var maxTokens: Int
    public var prices: Prices
    public var notes: String
    /// Context window in tokens, 0 when unknown (never skipped for size).
    public var contextWindow: Int
    /// Per-attempt timeout; `nil` uses the provider's.
    public var timeoutMs: Int64?
    /// What it can take; a request needing more skips it.
    public var capabilities: Set<Capability>
    /// A reasoning model (o-series, gpt-5): takes `max_completion_tokens`, never `temperature`/`top_p`.
    public var reasoning: Bool
    /// Sent when the caller gives no temperature (the seed's 0.3 lives in the config now).
    public var defaultTemperature: Double?
    /// Mark the system prompt and tools cacheable (Anthropic `cache_control`).
    public var promptCache: Bool
    /// Streaming: the longest wait for the first answer delta; `nil` uses the provider's.
    public var firstTokenTimeoutMs: Int64?
    /// The longest silence inside a response; `nil` uses the provider's.
    public var idleTimeoutMs: Int64?

    public init(
        name: String, provider: String, modelID: String, priority: Int = 100, maxTokens: Int = 4096,
        prices: Prices = Prices(), notes: String = "", contextWindow: Int = 0, timeoutMs: Int64? = nil,
        capabilities: Set<Capability> = Set(Capability.allCases), reasoning: Bool = false,
        defaultTemperature: Double? = nil, promptCache: Bool = false
    ) {
        self.name = name
        self.provider = provider
        self.modelID = modelID
        self.priority = priority
        self.maxTokens = maxTokens
        self.prices = prices
        self.notes = notes
        self.contextWindow = contextWindow
        self.timeoutMs = timeoutMs
        self.capabilities = capabilities
        self.reasoning = reasoning
        self.defaultTemperature = defaultTemperature
        self.promptCache = promptCache
    }

    /// The seed's shape: prices per 1k tokens.
    public init(
        name: String, provider: String, modelID: String, priority: Int, maxTokens: Int,
        costPer1kInput: Double, costPer1kOutput: Double, notes: String = "",
        contextWindow: Int = 0, timeoutMs: Int64? = nil
    ) {
        self.init(
            name: name, provider: provider, modelID: modelID, priority: priority, maxTokens: maxTokens,
            prices: Prices(inputPerMTok: costPer1kInput * 1000, outputPerMTok: costPer1kOutput * 1000), notes: notes,
            contextWindow: contextWindow, timeoutMs: timeoutMs)
    }

    public var costPer1kInput: Double { prices.inputPerMTok / 1000 }
    public var costPer1kOutput: Double { prices.outputPerMTok / 1000 }

    /// What `usage` costs on this model, in US dollars: cached and cache-written input at their own
    /// prices, the rest of the input at the input price, all output (reasoning included) at the output price.
    public func cost(of usage: Usage) -> Double {
        prices.cost(of: usage)
    }

    /// The capabilities `request` needs that this model lacks, sorted.
    public func missingCapabilities(for needs: [Capability]) -> [Capability] {
        needs.filter { !capabilities.contains($0) }
    }
}

/// A model's prices in US dollars per million tokens.
public struct Prices: Sendable, Hashable {
    public var inputPerMTok: Double
    public var outputPerMTok: Double
    /// Input read from the prompt cache; the input price when not configured.
    public var cachedInputPerMTok: Double
    /// Input written to the prompt cache; the input price when not configured.
    public var cacheWritePerMTok: Double

    public init(inputPerMTok: Double = 0, outputPerMTok: Double = 0, cachedInputPerMTok: Double? = nil, cacheWritePerMTok: Double? = nil) {
        self.inputPerMTok = inputPerMTok
        self.outputPerMTok = outputPerMTok
        self.cachedInputPerMTok = cachedInputPerMTok ?? inputPerMTok
        self.cacheWritePerMTok = cacheWritePerMTok ?? inputPerMTok
    }

    public func cost(of usage: Usage) -> Double {
        let cached = min(usage.cachedInputTokens, usage.inputTokens)
        let written = min(usage.cacheWriteTokens, usage.inputTokens - cached)
        let plain = usage.inputTokens - cached - written
        return (Double(plain) * inputPerMTok + Double(cached) * cachedInputPerMTok + Double(written) * cacheWritePerMTok
            + Double(usage.outputTokens) * outputPerMTok) / 1_000_000
    }
}
