import FallbackCore
import FallbackProviders

/// Parses one `[models.NAME]` table: the seed's fields, the capabilities a model declares (with
/// defaults per provider kind), prices per million tokens (or the seed's per 1k), reasoning.
enum ModelConfigParser {
    static func parse(_ reader: inout TOMLReader, name: String, providers: [String: ProviderSettings]) throws(ConfigError) -> ModelConfig {
        let provider = try reader.requiredString("provider")
        guard let settings = providers[provider] else {
            throw ConfigError(
                key: reader.key("provider"), "names unknown provider '\(provider)'" + Suggestion.hint(for: provider, in: providers.keys.sorted()))
        }
        let modelID = try reader.requiredString("model_id")
        if reader.value("max_tokens") != nil, reader.value("max_output_tokens") != nil {
            throw ConfigError(key: reader.key("max_output_tokens"), "give max_output_tokens or max_tokens, not both")
        }
        let newCap = try reader.int("max_output_tokens", min: 1)
        let seedCap = try reader.int("max_tokens", min: 1)
        let maxTokens = newCap ?? seedCap ?? 4096
        let reasoning = try reader.bool("reasoning") ?? ModelDefaults.isReasoningModel(modelID, kind: settings.kind)
        var capabilities = ModelDefaults.capabilities(modelID: modelID, kind: settings.kind, reasoning: reasoning)
        if let names = try reader.stringArray("capabilities") {
            capabilities = []
            for (index, text) in names.enumerated() {
                guard let capability = Capability(rawValue: text) else {
                    let known = Capability.allCases.map(\.rawValue).joined(separator: ", ")
                    throw ConfigError(key: "\(reader.key("capabilities"))[\(index)]", "'\(text)' is not one of \(known)")
                }
                capabilities.insert(capability)
            }
        }
        let firstToken = try reader.int("first_token_timeout_ms", min: 1).map(Int64.init)
        let idle = try reader.int("idle_timeout_ms", min: 1).map(Int64.init)
        var model = ModelConfig(
            name: name, provider: provider, modelID: modelID, priority: try reader.int("priority") ?? 100,
            maxTokens: maxTokens, prices: try prices(&reader), notes: try reader.string("notes") ?? "",
            contextWindow: try reader.int("context_window", min: 0) ?? 0,
            timeoutMs: Int64(try reader.int("timeout_ms", min: 1) ?? Int(settings.timeoutMs)),
            capabilities: capabilities, reasoning: reasoning,
            defaultTemperature: try reader.double("default_temperature", min: 0, max: 2),
            promptCache: try reader.bool("prompt_cache") ?? false
        )
        model.firstTokenTimeoutMs = firstToken
        model.idleTimeoutMs = idle
        return model
    }

    /// Per million tokens (`input_per_mtok`...), or the seed's per 1k (`cost_per_1k_input`...), not both.
    static func prices(_ reader: inout TOMLReader) throws(ConfigError) -> Prices {
        let perMillion = (try reader.double("input_per_mtok", min: 0), try reader.double("output_per_mtok", min: 0))
        let perThousand = (try reader.double("cost_per_1k_input", min: 0), try reader.double("cost_per_1k_output", min: 0))
        if perMillion.0 != nil || perMillion.1 != nil, perThousand.0 != nil || perThousand.1 != nil {
            throw ConfigError(key: reader.key("input_per_mtok"), "give prices per million tokens or per 1k tokens, not both")
        }
        let input = perMillion.0 ?? perThousand.0.map { $0 * 1000 } ?? 0
        let output = perMillion.1 ?? perThousand.1.map { $0 * 1000 } ?? 0
        return Prices(
            inputPerMTok: input, outputPerMTok: output,
            cachedInputPerMTok: try reader.double("cached_input_per_mtok", min: 0),
            cacheWritePerMTok: try reader.double("cache_write_per_mtok", min: 0))
    }
}

/// What a model can do when its config does not say: per provider kind, refined by the model id.
/// docs/protocol.md lists the same table.
enum ModelDefaults {
    /// OpenAI's reasoning families reject `max_tokens` and `temperature`: o1, o3, o4 and gpt-5.
    static func isReasoningModel(_ modelID: String, kind: ProviderKind) -> Bool {
        guard kind == .openai || kind == .openaiCompatible else { return false }
        let id = modelID.lowercased().split(separator: "/").last.map(String.init) ?? ""
        return ["o1", "o3", "o4", "gpt-5"].contains { id == $0 || id.hasPrefix($0 + "-") }
    }

    static func capabilities(modelID: String, kind: ProviderKind, reasoning: Bool) -> Set<Capability> {
        let id = modelID.lowercased()
        var set: Set<Capability>
        switch kind {
        case .openai:
            set = [.tools, .vision, .pdf, .jsonSchema, .seed, .penalties, .logitBias, .openAIFiles]
            if id.contains("audio") { set.insert(.audio) }
            if reasoning { set.insert(.reasoning) }
        case .openaiCompatible:
            set = [.tools, .jsonSchema, .seed, .penalties, .logitBias]
            if reasoning { set.insert(.reasoning) }
        case .anthropic:
            set = [.tools, .vision, .pdf, .jsonSchema]
            // Extended thinking: Claude 3.7 and the 4 family onwards.
            if id.contains("3-7") || id.range(of: #"-[4-9](-|$)"#, options: .regularExpression) != nil { set.insert(.reasoning) }
        case .gemini:
            set = [.tools, .vision, .audio, .pdf, .jsonSchema, .seed, .penalties]
            if id.contains("2.5") || id.contains("gemini-3") { set.insert(.reasoning) }
        case .simulated:
            set = Set(Capability.allCases)
        }
        return set
    }
}
