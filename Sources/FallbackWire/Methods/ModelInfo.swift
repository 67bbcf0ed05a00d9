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
    /// US dollars per million tokens: input, output, cached input, cache writes.
    public var inputPerMTok: Double
    public var outputPerMTok: Double
    public var cachedInputPerMTok: Double
    public var cacheWritePerMTok: Double
    /// What it can take (`tools`, `vision`, `json_schema`...), sorted.
    public var capabilities: [String]
    /// A reasoning model: `max_completion_tokens`, no `temperature`.
    public var reasoning: Bool
    /// The temperature sent when a request gives none.
    public var defaultTemperature: Double?
    /// Free-form notes from the config.
    public var notes: String

    public init(
        name: String, provider: String, providerKind: String = "", modelID: String, priority: Int = 0,
        maxTokens: Int = 0, contextWindow: Int = 0, costPer1kInput: Double = 0, costPer1kOutput: Double = 0,
        notes: String = "", cachedInputPerMTok: Double? = nil, cacheWritePerMTok: Double? = nil,
        capabilities: [String] = [], reasoning: Bool = false, defaultTemperature: Double? = nil
    ) {
        self.inputPerMTok = costPer1kInput * 1000
        self.outputPerMTok = costPer1kOutput * 1000
        self.cachedInputPerMTok = cachedInputPerMTok ?? costPer1kInput * 1000
        self.cacheWritePerMTok = cacheWritePerMTok ?? costPer1kInput * 1000
        self.capabilities = capabilities
        self.reasoning = reasoning
        self.defaultTemperature = defaultTemperature
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
            notes: json["notes"]?.stringValue ?? "",
            cachedInputPerMTok: json["cached_input_per_mtok"]?.doubleValue,
            cacheWritePerMTok: json["cache_write_per_mtok"]?.doubleValue,
            capabilities: (json["capabilities"]?.arrayValue ?? []).compactMap(\.stringValue),
            reasoning: json["reasoning"]?.boolValue ?? false,
            defaultTemperature: json["default_temperature"]?.doubleValue
        )
    }

    /// One entry of the `models` result.
    public var json: JSON {
        [
            "name": .string(name), "provider": .string(provider), "provider_kind": .string(providerKind),
            "model_id": .string(modelID), "priority": .int(priority), "max_tokens": .int(maxTokens),
            "context_window": .int(contextWindow), "capabilities": .array(capabilities.map { .string($0) }),
            "reasoning": .bool(reasoning), "default_temperature": .optional(defaultTemperature),
            "input_per_mtok": .double(inputPerMTok), "output_per_mtok": .double(outputPerMTok),
            "cached_input_per_mtok": .double(cachedInputPerMTok), "cache_write_per_mtok": .double(cacheWritePerMTok),
            "cost_per_1k_input": .double(costPer1kInput), "cost_per_1k_output": .double(costPer1kOutput),
            "notes": .string(notes),
        ]
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
    /// - Throws: when `chains` is not an object of string arrays.
    public init(json: JSON) throws(WireError) {
        guard let members = json["chains"]?.objectValue else { throw WireError(field: "result.chains", "must be an object") }
        var chains: [String: [String]] = [:]
        for (task, list) in members {
            guard let names = list.arrayValue?.compactMap(\.stringValue), names.count == list.count else {
                throw WireError(field: "result.chains.\(task)", "must be an array of model names")
            }
            chains[task] = names
        }
        self.init(chains: chains, defaultChain: json["default_chain"]?.stringValue ?? "default")
    }

    /// The `chains` result, tasks sorted.
    public var json: JSON {
        var object = JSON.emptyObject
        for (task, names) in chains.sorted(by: { $0.key < $1.key }) { object[task] = .array(names.map { .string($0) }) }
        return ["chains": object, "default_chain": .string(defaultChain)]
    }

    /// Task names, the default chain first, then alphabetical.
    public var orderedTasks: [String] {
        chains.keys.sorted { lhs, rhs in
            if (lhs == defaultChain) != (rhs == defaultChain) { return lhs == defaultChain }
            return lhs < rhs
        }
    }
}
