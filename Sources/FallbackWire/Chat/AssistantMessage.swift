/// Why a model stopped, normalised across providers.
public enum FinishReason: String, Sendable, Hashable, CaseIterable {
    /// A natural end, or a stop sequence.
    case stop
    /// The output cap cut it.
    case length
    /// It called tools and waits for their results.
    case toolCalls = "tool_calls"
    /// The provider withheld or refused the output.
    case contentFilter = "content_filter"
}

/// Token counts of one call. `inputTokens` counts every input token, the cached and cache-written
/// ones included; `outputTokens` counts every output token, reasoning included.
public struct Usage: Sendable, Hashable {
    public var inputTokens: Int
    public var outputTokens: Int
    /// Input tokens read from the provider's prompt cache (billed at the cached price).
    public var cachedInputTokens: Int
    /// Input tokens written to the provider's prompt cache (billed at the cache-write price).
    public var cacheWriteTokens: Int
    /// Output tokens spent thinking (billed as output).
    public var reasoningTokens: Int

    public init(
        inputTokens: Int = 0, outputTokens: Int = 0, cachedInputTokens: Int = 0, cacheWriteTokens: Int = 0,
        reasoningTokens: Int = 0
    ) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cachedInputTokens = cachedInputTokens
        self.cacheWriteTokens = cacheWriteTokens
        self.reasoningTokens = reasoningTokens
    }

    public static let zero = Usage()

    public static func + (lhs: Usage, rhs: Usage) -> Usage {
        Usage(
            inputTokens: lhs.inputTokens + rhs.inputTokens, outputTokens: lhs.outputTokens + rhs.outputTokens,
            cachedInputTokens: lhs.cachedInputTokens + rhs.cachedInputTokens,
            cacheWriteTokens: lhs.cacheWriteTokens + rhs.cacheWriteTokens,
            reasoningTokens: lhs.reasoningTokens + rhs.reasoningTokens)
    }

    /// `{"input_tokens","output_tokens","cached_input_tokens","cache_write_tokens","reasoning_tokens"}`.
    public var json: JSON {
        [
            "input_tokens": .int(inputTokens), "output_tokens": .int(outputTokens),
            "cached_input_tokens": .int(cachedInputTokens), "cache_write_tokens": .int(cacheWriteTokens),
            "reasoning_tokens": .int(reasoningTokens),
        ]
    }

    /// Reads the shape ``json`` writes; missing counts are zero.
    public init(json: JSON?) {
        func count(_ key: String) -> Int { max(0, json?[key]?.intValue ?? 0) }
        self.init(
            inputTokens: count("input_tokens"), outputTokens: count("output_tokens"),
            cachedInputTokens: count("cached_input_tokens"), cacheWriteTokens: count("cache_write_tokens"),
            reasoningTokens: count("reasoning_tokens"))
    }
}

/// What a model answered: the assistant message whole.
public struct AssistantMessage: Sendable, Hashable {
    /// The text; `nil` when the model only called tools (or refused without text).
    public var content: String?
    public var toolCalls: [ToolCall]
    /// The model's refusal, when it refused (OpenAI's structured-output refusals).
    public var refusal: String?

    public init(content: String?, toolCalls: [ToolCall] = [], refusal: String? = nil) {
        self.content = content
        self.toolCalls = toolCalls
        self.refusal = refusal
    }

    /// Whether there is anything for the caller: text, a tool call, or a refusal.
    public var isEmpty: Bool { (content ?? "").isEmpty && toolCalls.isEmpty && (refusal ?? "").isEmpty }

    /// The message as OpenAI returns it (`role` included).
    public var json: JSON {
        var object: JSON = ["role": "assistant", "content": .optional(content)]
        if !toolCalls.isEmpty { object["tool_calls"] = .array(toolCalls.map(\.json)) }
        object["refusal"] = .optional(refusal)
        return object
    }
}
