extension ChatRequest {
    /// The Chat Completions members fallbackd understands; anything else is kept in `extra`.
    public static let schemaFields: Set<String> = [
        "messages", "model", "tools", "tool_choice", "parallel_tool_calls", "response_format", "max_tokens",
        "max_completion_tokens", "temperature", "top_p", "stop", "seed", "presence_penalty", "frequency_penalty",
        "logit_bias", "user", "reasoning_effort", "stream", "stream_options", "n",
    ]

    /// Reads a Chat Completions request object. `ownFields` (fallbackd's `task`, `models`, ...) are
    /// skipped and left out of `body`. Every error names its field.
    public init(decoding object: JSON, ownFields: Set<String> = []) throws(WireError) {
        guard let members = object.objectValue else { throw WireError(field: "params", "must be an object") }
        self.init(messages: try Self.messages(object["messages"]))
        var body = object
        for (key, value) in members {
            if ownFields.contains(key) {
                body[key] = nil
                continue
            }
            guard Self.schemaFields.contains(key) else {
                extra.append((key, value))
                continue
            }
            if value.isNull, key != "messages" { continue }
            try read(key, value)
        }
        // `model` names a provider model; fallbackd picks the model, so it never goes upstream as sent.
        body["model"] = nil
        received = body
        try validate()
    }

    private mutating func read(_ key: String, _ value: JSON) throws(WireError) {
        switch key {
        case "messages", "model": break
        case "tools": tools = try Self.tools(value)
        case "tool_choice": toolChoice = try Self.toolChoice(value)
        case "parallel_tool_calls": parallelToolCalls = try Self.bool(value, key)
        case "response_format": responseFormat = try Self.responseFormat(value)
        case "max_tokens", "max_completion_tokens":
            guard let number = value.intValue, number >= 1 else { throw WireError(field: key, "must be an integer of at least 1") }
            // Both given: the newer name wins.
            if key == "max_completion_tokens" || maxOutputTokens == nil { maxOutputTokens = number }
        case "temperature": temperature = try Self.number(value, key, 0...2)
        case "top_p": topP = try Self.number(value, key, 0...1)
        case "presence_penalty": presencePenalty = try Self.number(value, key, -2...2)
        case "frequency_penalty": frequencyPenalty = try Self.number(value, key, -2...2)
        case "seed":
            guard let number = value.intValue else { throw WireError(field: key, "must be an integer") }
            seed = number
        case "stop": stop = try Self.stop(value)
        case "logit_bias":
            guard value.kind == .object else { throw WireError(field: key, "must be an object of token id to bias") }
            if value.count > 0 { logitBias = value }
        case "user": user = try Self.string(value, key)
        case "reasoning_effort":
            let effort = try Self.string(value, key)
            guard ["minimal", "low", "medium", "high"].contains(effort) else {
                throw WireError(field: key, "must be minimal, low, medium or high, not '\(effort)'")
            }
            reasoningEffort = effort
        case "stream": stream = try Self.bool(value, key)
        case "stream_options":
            guard value.kind == .object else { throw WireError(field: key, "must be an object") }
            if let include = value["include_usage"], !include.isNull {
                streamIncludeUsage = try Self.bool(include, "stream_options.include_usage")
            }
        case "n":
            guard value.intValue == 1 else { throw WireError(field: key, "must be 1: fallbackd returns one choice") }
        default: break
        }
    }

    /// Rules across fields.
    private func validate() throws(WireError) {
        guard messages.contains(where: { !$0.role.isInstruction }) else {
            throw WireError(field: "messages", "needs at least one user or assistant message")
        }
        let names = Set(tools.map(\.name))
        if case .function(let name) = toolChoice, !names.contains(name) {
            throw WireError(field: "tool_choice", "names function '\(name)', which is not in tools")
        }
        if let choice = toolChoice, choice != .none, choice != .auto, tools.isEmpty {
            throw WireError(field: "tool_choice", "requires tools")
        }
        // Every tool result answers a call made earlier in the conversation.
        var calls: Set<String> = []
        for (index, message) in messages.enumerated() {
            for call in message.toolCalls { calls.insert(call.id) }
            if message.role == .tool, let id = message.toolCallID, !calls.contains(id) {
                throw WireError(field: "messages[\(index)].tool_call_id", "'\(id)' answers no earlier tool call")
            }
        }
    }

    static func string(_ value: JSON, _ field: String) throws(WireError) -> String {
        guard let text = value.stringValue else { throw WireError(field: field, "must be a string") }
        return text
    }

    static func bool(_ value: JSON, _ field: String) throws(WireError) -> Bool {
        guard let flag = value.boolValue else { throw WireError(field: field, "must be true or false") }
        return flag
    }

    static func number(_ value: JSON, _ field: String, _ range: ClosedRange<Double>) throws(WireError) -> Double {
        guard let number = value.doubleValue, range.contains(number) else {
            throw WireError(field: field, "must be a number from \(range.lowerBound.compact) to \(range.upperBound.compact)")
        }
        return number
    }

    static func stop(_ value: JSON) throws(WireError) -> [String] {
        if let one = value.stringValue { return [one] }
        guard let list = value.arrayValue, list.count <= 4 else {
            throw WireError(field: "stop", "must be a string or an array of at most 4 strings")
        }
        var out: [String] = []
        for (index, element) in list.enumerated() {
            guard let text = element.stringValue, !text.isEmpty else { throw WireError(field: "stop[\(index)]", "must be a non-empty string") }
            out.append(text)
        }
        return out
    }
}

extension Double {
    /// `2` for 2.0, `0.5` for 0.5: numbers in messages as people write them.
    var compact: String { rounded() == self && abs(self) < 1e15 ? String(Int(self)) : String(self) }
}
