import FallbackRPC

/// One model of the daemon's pool, as `models` lists it.
public struct ModelInfo: Sendable, Equatable {
    /// The pool name chains refer to (`gpt-4o`).
    public var name: String
    /// The `[providers.NAME]` entry that serves it.
    public var provider: String
    /// The provider's kind (`openai`, `anthropic`, `gemini`, `openai-compatible`, `simulated`).
    public var providerKind: String
    /// The id sent to the provider.
    public var modelID: String
    /// Lower is tried first.
    public var priority: Int
    /// The most output tokens a request may ask of it.
    public var maxTokens: Int
    /// Context window in tokens; 0 when unknown.
    public var contextWindow: Int
    /// US dollars per 1000 input tokens.
    public var costPer1kInput: Double
    /// US dollars per 1000 output tokens.
    public var costPer1kOutput: Double
    /// Free-form notes from the config.
    public var notes: String

    public init(
        name: String, provider: String, providerKind: String = "", modelID: String, priority: Int = 0,
        maxTokens: Int = 0, contextWindow: Int = 0, costPer1kInput: Double = 0, costPer1kOutput: Double = 0,
        notes: String = ""
    ) {
        self.name = name
        self.provider = provider
        self.providerKind = providerKind
        self.modelID = modelID
        self.priority = priority
        self.maxTokens = maxTokens
        self.contextWindow = contextWindow
        self.costPer1kInput = costPer1kInput
        self.costPer1kOutput = costPer1kOutput
        self.notes = notes
    }

    /// Reads one entry of the `models` result; `nil` when it has no string `name`.
    public init?(json: JSON) {
        guard let name = json["name"]?.stringValue else { return nil }
        self.init(
            name: name,
            provider: json["provider"]?.stringValue ?? "",
            providerKind: json["provider_kind"]?.stringValue ?? "",
            modelID: json["model_id"]?.stringValue ?? "",
            priority: json["priority"]?.roundedInt ?? 0,
            maxTokens: json["max_tokens"]?.roundedInt ?? 0,
            contextWindow: json["context_window"]?.roundedInt ?? 0,
            costPer1kInput: json["cost_per_1k_input"]?.doubleValue ?? 0,
            costPer1kOutput: json["cost_per_1k_output"]?.doubleValue ?? 0,
            notes: json["notes"]?.stringValue ?? ""
        )
    }
}

/// The daemon's fallback chains, as `chains` lists them.
public struct ChainTable: Sendable, Equatable {
    /// Task name to the pool names tried in order.
    public var chains: [String: [String]]
    /// The chain that runs for unknown tasks (`default`).
    public var defaultChain: String

    public init(chains: [String: [String]], defaultChain: String = "default") {
        self.chains = chains
        self.defaultChain = defaultChain
    }

    /// Reads the `chains` result.
    /// - Throws: `.protocolError` when `chains` is not an object of string arrays.
    public init(json: JSON) throws(FallbackClientError) {
        guard let members = json["chains"]?.objectValue else {
            throw .protocolError("chains result lacks a \"chains\" object: \(FallbackClient.excerpt(of: json))")
        }
        var chains: [String: [String]] = [:]
        for (task, list) in members {
            guard let names = list.arrayValue?.compactMap(\.stringValue), names.count == list.count else {
                throw .protocolError("chain \"\(task)\" is not an array of model names: \(FallbackClient.excerpt(of: list))")
            }
            chains[task] = names
        }
        self.init(chains: chains, defaultChain: json["default_chain"]?.stringValue ?? "default")
    }

    /// Task names, the default chain first, then alphabetical.
    public var orderedTasks: [String] {
        chains.keys.sorted { lhs, rhs in
            if (lhs == defaultChain) != (rhs == defaultChain) { return lhs == defaultChain }
            return lhs < rhs
        }
    }
}
