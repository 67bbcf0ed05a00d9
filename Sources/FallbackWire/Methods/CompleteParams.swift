/// `complete` params: a Chat Completions request plus fallbackd's own fields. The daemon decodes
/// them with ``init(decoding:)``; clients build them and send ``json``.
public struct CompleteParams: Sendable {
    /// fallbackd's own members, never sent to a provider.
    public static let ownFields: Set<String> = ["task", "models", "timeout_ms", "metadata", "shadow", "on_interrupt"]
    /// Ten minutes: longer deadlines are almost always a unit mistake (seconds for milliseconds).
    public static let maxTimeoutMs = 600_000

    public var chat: ChatRequest
    /// The task whose chain runs; `default` when `nil`.
    public var task: String?
    /// Pool names to try in order, replacing the task's chain.
    public var models: [String]?
    /// The overall deadline in milliseconds.
    public var timeoutMs: Int?
    /// Kept with the call log.
    public var metadata: JSON?
    /// `true` asks for a shadow call, `false` refuses one.
    public var shadow: Bool?
    /// Streaming: `error` (the default) or `restart` when a stream breaks after its first delta.
    public var onInterrupt: String?

    public init(
        chat: ChatRequest, task: String? = nil, models: [String]? = nil, timeoutMs: Int? = nil, metadata: JSON? = nil,
        shadow: Bool? = nil, onInterrupt: String? = nil
    ) {
        self.onInterrupt = onInterrupt
        self.chat = chat
        self.task = task
        self.models = models
        self.timeoutMs = timeoutMs
        self.metadata = metadata
        self.shadow = shadow
    }

    /// Reads params; every error names its field.
    public init(decoding params: JSON?) throws(WireError) {
        guard let params, params.kind == .object else {
            throw WireError(field: "params", "must be an object with at least `messages`")
        }
        self.init(chat: try ChatRequest(decoding: params, ownFields: Self.ownFields))
        if let value = params["task"], !value.isNull {
            guard let name = value.stringValue, !name.isEmpty else { throw WireError(field: "task", "must be a non-empty string") }
            task = name
        }
        if let value = params["models"], !value.isNull {
            guard let elements = value.arrayValue, !elements.isEmpty else {
                throw WireError(field: "models", "must be a non-empty array of model names")
            }
            var names: [String] = []
            for (index, element) in elements.enumerated() {
                guard let name = element.stringValue else { throw WireError(field: "models[\(index)]", "must be a string") }
                guard !names.contains(name) else { throw WireError(field: "models[\(index)]", "'\(name)' is listed twice") }
                names.append(name)
            }
            models = names
        }
        if let value = params["timeout_ms"], !value.isNull {
            guard let number = value.intValue, number >= 1, number <= Self.maxTimeoutMs else {
                throw WireError(field: "timeout_ms", "must be an integer from 1 to \(Self.maxTimeoutMs)")
            }
            timeoutMs = number
        }
        if let value = params["shadow"], !value.isNull {
            guard let flag = value.boolValue else { throw WireError(field: "shadow", "must be true or false") }
            shadow = flag
        }
        if let value = params["metadata"], !value.isNull {
            guard value.kind == .object else { throw WireError(field: "metadata", "must be an object") }
            metadata = value
        }
        if let value = params["on_interrupt"], !value.isNull {
            guard let policy = value.stringValue, policy == "error" || policy == "restart" else {
                throw WireError(field: "on_interrupt", "must be \"error\" or \"restart\"")
            }
            onInterrupt = policy
        }
    }

    /// The params object: the chat request's members, then fallbackd's own.
    public var json: JSON {
        var object = chat.body
        if let task { object["task"] = .string(task) }
        if let models { object["models"] = .array(models.map { .string($0) }) }
        if let timeoutMs { object["timeout_ms"] = .int(timeoutMs) }
        if let metadata { object["metadata"] = metadata }
        if let shadow { object["shadow"] = .bool(shadow) }
        if let onInterrupt { object["on_interrupt"] = .string(onInterrupt) }
        return object
    }
}
