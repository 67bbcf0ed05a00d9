/// What a request may need of a model, and a model declares it can do (`capabilities = [...]`).
/// The first six are the config's vocabulary; the rest name request fields some APIs cannot express.
public enum Capability: String, Sendable, Hashable, CaseIterable, Comparable {
    case tools
    /// Image input.
    case vision
    /// Audio input.
    case audio
    /// Document (PDF) input.
    case pdf
    /// `response_format` with a JSON Schema.
    case jsonSchema = "json_schema"
    /// `reasoning_effort`.
    case reasoning
    /// `seed`.
    case seed
    /// Non-zero `presence_penalty` / `frequency_penalty`.
    case penalties
    /// A non-empty `logit_bias`.
    case logitBias = "logit_bias"
    /// Files referenced by an OpenAI file id: only OpenAI can read them.
    case openAIFiles = "openai_files"

    public static func < (lhs: Capability, rhs: Capability) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension ChatRequest {
    /// Every capability this request needs of the model that serves it, sorted.
    public var requiredCapabilities: [Capability] {
        var needs: Set<Capability> = []
        if !tools.isEmpty || messages.contains(where: { !$0.toolCalls.isEmpty || $0.role == .tool }) { needs.insert(.tools) }
        for message in messages {
            for part in message.content?.parts ?? [] {
                switch part {
                case .text: break
                case .image: needs.insert(.vision)
                case .audio: needs.insert(.audio)
                case .file(let file):
                    needs.insert(.pdf)
                    if file.fileID != nil { needs.insert(.openAIFiles) }
                }
            }
        }
        if case .jsonSchema = responseFormat { needs.insert(.jsonSchema) }
        if reasoningEffort != nil { needs.insert(.reasoning) }
        if seed != nil { needs.insert(.seed) }
        if (presencePenalty ?? 0) != 0 || (frequencyPenalty ?? 0) != 0 { needs.insert(.penalties) }
        if logitBias != nil { needs.insert(.logitBias) }
        return needs.sorted()
    }

    /// A conservative estimate of the input tokens: a token per 4 bytes of text and tool schema,
    /// a flat cost per image, audio clip and document (their true cost depends on the provider).
    public var estimatedInputTokens: Int {
        var bytes = 0
        var media = 0
        for message in messages {
            bytes += 8
            for part in message.content?.parts ?? [] {
                switch part {
                case .text(let text): bytes += text.utf8.count
                case .image: media += 1_000
                case .audio(let data, _): media += data.utf8.count / 100
                case .file(let file): media += (file.fileData?.utf8.count ?? 0) / 8 + 500
                }
            }
            for call in message.toolCalls { bytes += call.name.utf8.count + call.arguments.utf8.count + 16 }
        }
        for tool in tools {
            bytes += tool.name.utf8.count + (tool.description?.utf8.count ?? 0) + (tool.parameters?.serializedCount ?? 0)
        }
        if case .jsonSchema(let format) = responseFormat { bytes += format.schema?.serializedCount ?? 0 }
        return (bytes + 3) / 4 + media
    }
}

extension JSON {
    /// Bytes of the compact serialization.
    var serializedCount: Int { withSerializedBytes { $0.count } }
}

extension ChatRequest {
    /// The field of this request that needs `capability`, for error messages: the one the caller sent.
    public func field(needing capability: Capability) -> String {
        if capability == .penalties, (presencePenalty ?? 0) == 0, (frequencyPenalty ?? 0) != 0 { return "frequency_penalty" }
        if capability == .tools, tools.isEmpty { return "messages" }
        return capability.field
    }
}

extension Capability {
    /// The request field that usually calls for the capability.
    public var field: String {
        switch self {
        case .tools: "tools"
        case .vision, .audio, .pdf, .openAIFiles: "messages"
        case .jsonSchema: "response_format"
        case .reasoning: "reasoning_effort"
        case .seed: "seed"
        case .penalties: "presence_penalty"
        case .logitBias: "logit_bias"
        }
    }
}
