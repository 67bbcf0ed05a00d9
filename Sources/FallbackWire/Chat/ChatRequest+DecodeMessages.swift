extension ChatRequest {
    static func messages(_ value: JSON?) throws(WireError) -> [ChatMessage] {
        guard let value, !value.isNull else { throw WireError(field: "messages", "is required") }
        guard let elements = value.arrayValue, !elements.isEmpty else {
            throw WireError(field: "messages", "must be a non-empty array of messages")
        }
        var out: [ChatMessage] = []
        out.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            out.append(try message(element, field: "messages[\(index)]"))
        }
        return out
    }

    static func message(_ element: JSON, field: String) throws(WireError) -> ChatMessage {
        guard element.kind == .object else { throw WireError(field: field, "must be an object") }
        guard let roleText = element["role"]?.stringValue else { throw WireError(field: "\(field).role", "must be a string") }
        guard let role = ChatRole(rawValue: roleText) else {
            throw WireError(field: "\(field).role", "must be system, developer, user, assistant or tool, not '\(roleText)'")
        }
        var message = ChatMessage(role: role, content: try content(element["content"], role: role, field: "\(field).content"))
        if let name = element["name"], !name.isNull { message.name = try string(name, "\(field).name") }
        if let refusal = element["refusal"], !refusal.isNull { message.refusal = try string(refusal, "\(field).refusal") }
        if let calls = element["tool_calls"], !calls.isNull {
            guard role == .assistant else { throw WireError(field: "\(field).tool_calls", "only assistant messages make tool calls") }
            message.toolCalls = try toolCalls(calls, field: "\(field).tool_calls")
        }
        switch role {
        case .tool:
            guard let id = element["tool_call_id"]?.stringValue, !id.isEmpty else {
                throw WireError(field: "\(field).tool_call_id", "is required on a tool message")
            }
            message.toolCallID = id
        case .assistant:
            if message.content == nil, message.toolCalls.isEmpty, message.refusal == nil {
                throw WireError(field: "\(field).content", "an assistant message needs content or tool_calls")
            }
        default:
            guard message.content != nil else { throw WireError(field: "\(field).content", "is required") }
        }
        return message
    }

    static func content(_ value: JSON?, role: ChatRole, field: String) throws(WireError) -> MessageContent? {
        guard let value, !value.isNull else { return nil }
        if let text = value.stringValue { return .text(text) }
        guard let elements = value.arrayValue else { throw WireError(field: field, "must be a string or an array of parts") }
        var parts: [ContentPart] = []
        for (index, element) in elements.enumerated() {
            let partField = "\(field)[\(index)]"
            // An assistant turn replayed from OpenAI may carry its refusal as a part: it is text to others.
            if role == .assistant, element["type"]?.stringValue == "refusal", let refusal = element["refusal"]?.stringValue {
                parts.append(.text(refusal))
                continue
            }
            let part = try contentPart(element, field: partField)
            if role != .user, part.typeName != "text" {
                throw WireError(field: "\(partField).type", "only user messages may carry \(part.typeName) parts")
            }
            parts.append(part)
        }
        return .parts(parts)
    }

    static func contentPart(_ element: JSON, field: String) throws(WireError) -> ContentPart {
        guard element.kind == .object, let type = element["type"]?.stringValue else {
            throw WireError(field: "\(field).type", "must be text, image_url, input_audio or file")
        }
        switch type {
        case "text":
            return .text(try string(element["text"] ?? .null, "\(field).text"))
        case "image_url":
            let image = element["image_url"]
            guard let url = image?["url"]?.stringValue ?? image?.stringValue else {
                throw WireError(field: "\(field).image_url.url", "must be a string")
            }
            guard url.hasPrefix("http://") || url.hasPrefix("https://") || url.hasPrefix("data:") else {
                throw WireError(field: "\(field).image_url.url", "must be an http(s) or data: URL")
            }
            return .image(url: url, detail: image?["detail"]?.stringValue)
        case "input_audio":
            guard let data = element["input_audio"]?["data"]?.stringValue, let format = element["input_audio"]?["format"]?.stringValue else {
                throw WireError(field: "\(field).input_audio", "must be {data, format}")
            }
            return .audio(data: data, format: format)
        case "file":
            guard let file = element["file"], file.kind == .object else { throw WireError(field: "\(field).file", "must be an object") }
            let part = FilePart(
                fileID: file["file_id"]?.stringValue, fileData: file["file_data"]?.stringValue,
                filename: file["filename"]?.stringValue)
            guard part.fileID != nil || part.fileData != nil else {
                throw WireError(field: "\(field).file", "needs file_id or file_data")
            }
            return .file(part)
        default:
            throw WireError(field: "\(field).type", "must be text, image_url, input_audio or file, not '\(type)'")
        }
    }

    static func toolCalls(_ value: JSON, field: String) throws(WireError) -> [ToolCall] {
        guard let elements = value.arrayValue else { throw WireError(field: field, "must be an array") }
        var out: [ToolCall] = []
        for (index, element) in elements.enumerated() {
            let callField = "\(field)[\(index)]"
            guard let id = element["id"]?.stringValue, !id.isEmpty else { throw WireError(field: "\(callField).id", "must be a non-empty string") }
            guard let function = element["function"], let name = function["name"]?.stringValue else {
                throw WireError(field: "\(callField).function.name", "must be a string")
            }
            let arguments = function["arguments"]
            // Arguments are JSON text; an object some SDKs send is accepted and kept as its text.
            let text = arguments?.stringValue ?? (arguments.map { $0.kind == .object ? $0.serialized : nil } ?? "{}")
            guard let text else { throw WireError(field: "\(callField).function.arguments", "must be a JSON string") }
            out.append(ToolCall(id: id, name: name, arguments: text))
        }
        return out
    }

    static func tools(_ value: JSON) throws(WireError) -> [ToolDefinition] {
        guard let elements = value.arrayValue else { throw WireError(field: "tools", "must be an array") }
        var out: [ToolDefinition] = []
        var names: Set<String> = []
        for (index, element) in elements.enumerated() {
            let field = "tools[\(index)]"
            guard element["type"]?.stringValue == "function", let function = element["function"], function.kind == .object else {
                throw WireError(field: "\(field).type", "must be \"function\" with a function object")
            }
            guard let name = function["name"]?.stringValue, !name.isEmpty else {
                throw WireError(field: "\(field).function.name", "must be a non-empty string")
            }
            guard names.insert(name).inserted else { throw WireError(field: "\(field).function.name", "'\(name)' is defined twice") }
            let parameters = function["parameters"].flatMap { $0.isNull ? nil : $0 }
            if let parameters, parameters.kind != .object {
                throw WireError(field: "\(field).function.parameters", "must be a JSON Schema object")
            }
            out.append(ToolDefinition(
                name: name, description: function["description"]?.stringValue, parameters: parameters,
                strict: function["strict"]?.boolValue))
        }
        return out
    }

    static func toolChoice(_ value: JSON) throws(WireError) -> ToolChoice {
        if let text = value.stringValue {
            switch text {
            case "none": return .none
            case "auto": return .auto
            case "required": return .required
            default: throw WireError(field: "tool_choice", "must be none, auto, required or {\"type\":\"function\",...}")
            }
        }
        guard let name = value["function"]?["name"]?.stringValue else {
            throw WireError(field: "tool_choice.function.name", "must be a string")
        }
        return .function(name)
    }

    static func responseFormat(_ value: JSON) throws(WireError) -> ResponseFormat {
        switch value["type"]?.stringValue {
        case "text": return .text
        case "json_object": return .jsonObject
        case "json_schema":
            guard let spec = value["json_schema"], spec.kind == .object else {
                throw WireError(field: "response_format.json_schema", "must be an object")
            }
            guard let name = spec["name"]?.stringValue, !name.isEmpty else {
                throw WireError(field: "response_format.json_schema.name", "must be a non-empty string")
            }
            let schema = spec["schema"].flatMap { $0.isNull ? nil : $0 }
            if let schema, schema.kind != .object {
                throw WireError(field: "response_format.json_schema.schema", "must be a JSON Schema object")
            }
            return .jsonSchema(JSONSchemaFormat(
                name: name, description: spec["description"]?.stringValue, schema: schema, strict: spec["strict"]?.boolValue))
        default:
            throw WireError(field: "response_format.type", "must be text, json_object or json_schema")
        }
    }
}
