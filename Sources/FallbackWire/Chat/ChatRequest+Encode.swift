extension ChatRequest {
    /// The whole request as an OpenAI Chat Completions body (without `model`): the typed fields,
    /// then `extra` as given. Used when a request was built in code rather than received.
    public func openAIBody() -> JSON {
        var body: JSON = ["messages": .array(messages.map(\.json))]
        if !tools.isEmpty { body["tools"] = .array(tools.map(\.json)) }
        if let toolChoice { body["tool_choice"] = toolChoice.json }
        if let parallelToolCalls { body["parallel_tool_calls"] = .bool(parallelToolCalls) }
        if let responseFormat { body["response_format"] = responseFormat.json }
        if let maxOutputTokens { body["max_completion_tokens"] = .int(maxOutputTokens) }
        if let temperature { body["temperature"] = .double(temperature) }
        if let topP { body["top_p"] = .double(topP) }
        if !stop.isEmpty { body["stop"] = .array(stop.map { .string($0) }) }
        if let seed { body["seed"] = .int(seed) }
        if let presencePenalty { body["presence_penalty"] = .double(presencePenalty) }
        if let frequencyPenalty { body["frequency_penalty"] = .double(frequencyPenalty) }
        if let logitBias { body["logit_bias"] = logitBias }
        if let user { body["user"] = .string(user) }
        if let reasoningEffort { body["reasoning_effort"] = .string(reasoningEffort) }
        if stream {
            body["stream"] = true
            if streamIncludeUsage { body["stream_options"] = ["include_usage": true] }
        }
        for (key, value) in extra { body[key] = value }
        return body
    }
}

extension ChatMessage {
    /// The message in OpenAI's shape.
    public var json: JSON {
        var object: JSON = ["role": .string(role.rawValue)]
        object["content"] = content.map(\.json) ?? .null
        if let name { object["name"] = .string(name) }
        if !toolCalls.isEmpty { object["tool_calls"] = .array(toolCalls.map(\.json)) }
        if let toolCallID { object["tool_call_id"] = .string(toolCallID) }
        if let refusal { object["refusal"] = .string(refusal) }
        return object
    }
}

extension MessageContent {
    public var json: JSON {
        switch self {
        case .text(let text): .string(text)
        case .parts(let parts): .array(parts.map(\.json))
        }
    }
}

extension ContentPart {
    public var json: JSON {
        switch self {
        case .text(let text):
            return ["type": "text", "text": .string(text)]
        case .image(let url, let detail):
            var image: JSON = ["url": .string(url)]
            if let detail { image["detail"] = .string(detail) }
            return ["type": "image_url", "image_url": image]
        case .audio(let data, let format):
            return ["type": "input_audio", "input_audio": ["data": .string(data), "format": .string(format)]]
        case .file(let file):
            var object = JSON.emptyObject
            if let id = file.fileID { object["file_id"] = .string(id) }
            if let data = file.fileData { object["file_data"] = .string(data) }
            if let name = file.filename { object["filename"] = .string(name) }
            return ["type": "file", "file": object]
        }
    }
}

extension ToolCall {
    public var json: JSON {
        ["id": .string(id), "type": "function", "function": ["name": .string(name), "arguments": .string(arguments)]]
    }

    /// Reads `{"id","type":"function","function":{"name","arguments"}}`; `nil` when it is not one.
    public init?(json: JSON) {
        guard let id = json["id"]?.stringValue, let name = json["function"]?["name"]?.stringValue else { return nil }
        self.init(id: id, name: name, arguments: json["function"]?["arguments"]?.stringValue ?? "{}")
    }
}

extension ToolDefinition {
    public var json: JSON {
        var function: JSON = ["name": .string(name)]
        if let description { function["description"] = .string(description) }
        if let parameters { function["parameters"] = parameters }
        if let strict { function["strict"] = .bool(strict) }
        return ["type": "function", "function": function]
    }
}

extension ToolChoice {
    public var json: JSON {
        switch self {
        case .none: "none"
        case .auto: "auto"
        case .required: "required"
        case .function(let name): ["type": "function", "function": ["name": .string(name)]]
        }
    }
}

extension ResponseFormat {
    public var json: JSON {
        switch self {
        case .text: return ["type": "text"]
        case .jsonObject: return ["type": "json_object"]
        case .jsonSchema(let format):
            var spec: JSON = ["name": .string(format.name)]
            if let description = format.description { spec["description"] = .string(description) }
            if let schema = format.schema { spec["schema"] = schema }
            if let strict = format.strict { spec["strict"] = .bool(strict) }
            return ["type": "json_schema", "json_schema": spec]
        }
    }
}
