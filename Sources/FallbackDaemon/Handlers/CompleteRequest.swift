import FallbackCore
import FallbackRPC

/// Validates `complete` params into a `CompletionRequest`; every error names the field.
enum CompleteParams {
    static let knownFields: Set<String> = [
        "messages", "task", "models", "max_tokens", "temperature", "timeout_ms", "metadata", "shadow",
    ]
    /// Ten minutes: longer deadlines are almost always a unit mistake (seconds for milliseconds).
    static let maxTimeoutMs = 600_000

    static func parse(_ params: JSON?, pool: ModelPool, requestID: String) throws(RPCError) -> CompletionRequest {
        guard let params, let members = params.objectValue else {
            throw .invalidParams(field: "params", "must be an object with at least `messages`")
        }
        for (key, _) in members where !knownFields.contains(key) {
            throw .invalidParams(field: key, "unknown parameter")
        }
        var request = CompletionRequest(requestID: requestID, messages: try messages(params["messages"]))
        if let task = params["task"], !task.isNull {
            guard let name = task.stringValue, !name.isEmpty else { throw .invalidParams(field: "task", "must be a non-empty string") }
            request.task = name
        }
        if let models = params["models"], !models.isNull {
            request.models = try explicitModels(models, pool: pool)
        }
        if let value = params["max_tokens"], !value.isNull {
            guard let number = value.intValue, number >= 1 else { throw .invalidParams(field: "max_tokens", "must be an integer of at least 1") }
            request.maxTokens = number
        }
        if let value = params["temperature"], !value.isNull {
            guard let number = value.doubleValue, number >= 0, number <= 2 else {
                throw .invalidParams(field: "temperature", "must be a number from 0 to 2")
            }
            request.temperature = number
        }
        if let value = params["timeout_ms"], !value.isNull {
            guard let number = value.intValue, number >= 1, number <= maxTimeoutMs else {
                throw .invalidParams(field: "timeout_ms", "must be an integer from 1 to \(maxTimeoutMs)")
            }
            request.timeoutMs = Int64(number)
        }
        if let value = params["shadow"], !value.isNull {
            guard let flag = value.boolValue else { throw .invalidParams(field: "shadow", "must be true or false") }
            request.shadow = flag
        }
        if let value = params["metadata"], !value.isNull {
            guard value.kind == .object else { throw .invalidParams(field: "metadata", "must be an object") }
            request.metadataJSON = value.serialized
        }
        return request
    }

    static func messages(_ value: JSON?) throws(RPCError) -> [ChatMessage] {
        guard let value else { throw .invalidParams(field: "messages", "is required") }
        guard let elements = value.arrayValue, !elements.isEmpty else {
            throw .invalidParams(field: "messages", "must be a non-empty array of {role, content}")
        }
        var out: [ChatMessage] = []
        out.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            guard element.kind == .object else { throw .invalidParams(field: "messages[\(index)]", "must be an object") }
            guard let roleText = element["role"]?.stringValue else {
                throw .invalidParams(field: "messages[\(index)].role", "must be a string")
            }
            guard let role = Role(rawValue: roleText) else {
                throw .invalidParams(field: "messages[\(index)].role", "must be system, user or assistant, not '\(roleText)'")
            }
            guard let content = element["content"]?.stringValue else {
                throw .invalidParams(field: "messages[\(index)].content", "must be a string")
            }
            out.append(ChatMessage(role: role, content: content))
        }
        guard out.contains(where: { $0.role != .system }) else {
            throw .invalidParams(field: "messages", "needs at least one user or assistant message")
        }
        return out
    }

    static func explicitModels(_ value: JSON, pool: ModelPool) throws(RPCError) -> [String] {
        guard let elements = value.arrayValue, !elements.isEmpty else {
            throw .invalidParams(field: "models", "must be a non-empty array of model names")
        }
        var names: [String] = []
        for (index, element) in elements.enumerated() {
            guard let name = element.stringValue else { throw .invalidParams(field: "models[\(index)]", "must be a string") }
            guard pool.models[name] != nil else {
                throw .invalidParams(field: "models[\(index)]", "unknown model '\(name)'; see the `models` method")
            }
            guard !names.contains(name) else {
                throw .invalidParams(field: "models[\(index)]", "'\(name)' is listed twice")
            }
            names.append(name)
        }
        return names
    }
}
