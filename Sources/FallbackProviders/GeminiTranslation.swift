import FallbackCore

/// OpenAI Chat Completions to Gemini `generateContent` and back. Pure functions.
///
/// Roles become `user`/`model`; instructions go to `systemInstruction`; parts become `text`,
/// `inlineData` (data URLs, audio, documents) or `fileData` (http URLs); tools become
/// `functionDeclarations` with `parametersJsonSchema`; assistant tool calls become `functionCall`
/// parts and tool results `functionResponse` parts named after the call they answer;
/// `response_format` becomes `responseMimeType` + `responseJsonSchema`, `reasoning_effort` a
/// `thinkingConfig` budget.
enum GeminiTranslation {
    /// Finish reasons that mean the output was withheld.
    static let blockingFinishReasons: Set<String> = [
        "SAFETY", "RECITATION", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "IMAGE_SAFETY", "LANGUAGE",
    ]

    static func body(_ request: ProviderRequest) -> JSON {
        let chat = request.chat
        var body: JSON = ["contents": contents(chat.messages)]
        var system: [JSON] = []
        for message in chat.messages where message.role.isInstruction && !message.text.isEmpty {
            system.append(["text": .string(message.text)])
        }
        if !system.isEmpty { body["systemInstruction"] = ["parts": .array(system)] }
        if !chat.tools.isEmpty {
            body["tools"] = [["functionDeclarations": .array(chat.tools.map(declaration(of:)))]]
        }
        if let config = toolConfig(chat.toolChoice) { body["toolConfig"] = config }
        body["generationConfig"] = generationConfig(request)
        return body
    }

    /// Request fields Gemini has no place for.
    static func ignoredFields(_ request: ProviderRequest) -> [String] {
        var ignored = request.chat.extra.map(\.key)
        if request.chat.user != nil { ignored.append("user") }
        if request.chat.parallelToolCalls != nil { ignored.append("parallel_tool_calls") }
        return ignored
    }

    static func generationConfig(_ request: ProviderRequest) -> JSON {
        let chat = request.chat
        var config: JSON = ["maxOutputTokens": .int(request.maxOutputTokens)]
        if let temperature = request.temperature { config["temperature"] = .double(temperature) }
        if let topP = chat.topP { config["topP"] = .double(topP) }
        if !chat.stop.isEmpty { config["stopSequences"] = .array(chat.stop.map { .string($0) }) }
        if let seed = chat.seed { config["seed"] = .int(seed) }
        if let penalty = chat.presencePenalty, penalty != 0 { config["presencePenalty"] = .double(penalty) }
        if let penalty = chat.frequencyPenalty, penalty != 0 { config["frequencyPenalty"] = .double(penalty) }
        switch chat.responseFormat {
        case .jsonObject?:
            config["responseMimeType"] = "application/json"
        case .jsonSchema(let spec)?:
            config["responseMimeType"] = "application/json"
            if let schema = spec.schema { config["responseJsonSchema"] = schema }
        default:
            break
        }
        if let effort = chat.reasoningEffort {
            config["thinkingConfig"] = ["thinkingBudget": .int(ThinkingBudget.tokens(for: effort))]
        }
        return config
    }

    static func declaration(of tool: ToolDefinition) -> JSON {
        var declaration: JSON = ["name": .string(tool.name)]
        if let description = tool.description { declaration["description"] = .string(description) }
        if let parameters = tool.parameters { declaration["parametersJsonSchema"] = parameters }
        return declaration
    }

    static func toolConfig(_ choice: ToolChoice?) -> JSON? {
        switch choice {
        case nil: nil
        case .none?: ["functionCallingConfig": ["mode": "NONE"]]
        case .auto?: ["functionCallingConfig": ["mode": "AUTO"]]
        case .required?: ["functionCallingConfig": ["mode": "ANY"]]
        case .function(let name)?:
            ["functionCallingConfig": ["mode": "ANY", "allowedFunctionNames": [.string(name)]]]
        }
    }

    /// The conversation as Gemini contents: same-role turns merged, tool results named after their calls.
    static func contents(_ messages: [ChatMessage]) -> JSON {
        var callNames: [String: String] = [:]
        var turns: [(role: String, parts: [JSON])] = []
        for message in messages where !message.role.isInstruction {
            for call in message.toolCalls { callNames[call.id] = call.name }
            let role = message.role == .assistant ? "model" : "user"
            let parts = self.parts(of: message, callNames: callNames)
            guard !parts.isEmpty else { continue }
            if let last = turns.last, last.role == role {
                turns[turns.count - 1].parts += parts
            } else {
                turns.append((role, parts))
            }
        }
        return .array(turns.map { ["role": .string($0.role), "parts": .array($0.parts)] })
    }

    static func parts(of message: ChatMessage, callNames: [String: String]) -> [JSON] {
        switch message.role {
        case .tool:
            let id = message.toolCallID ?? ""
            // Gemini wants an object: a JSON object result as it is, anything else under `content`.
            let text = message.text
            let parsed = (try? JSON.parse(text.trimmingSpaces)).flatMap { $0.kind == .object ? $0 : nil }
            let response = parsed ?? ["content": .string(text)]
            return [["functionResponse": ["name": .string(callNames[id] ?? id), "response": response]]]
        case .assistant:
            var parts: [JSON] = []
            let text = message.text.isEmpty ? (message.refusal ?? "") : message.text
            if !text.isEmpty { parts.append(["text": .string(text)]) }
            for call in message.toolCalls {
                parts.append(["functionCall": ["name": .string(call.name), "args": call.argumentsObject]])
            }
            return parts
        default:
            return (message.content?.parts ?? []).compactMap(part(of:))
        }
    }

    static func part(of part: ContentPart) -> JSON? {
        switch part {
        case .text(let text):
            return text.isEmpty ? nil : ["text": .string(text)]
        case .image(let url, _):
            return media(MediaSource.parse(url, fallbackType: "image/jpeg"), urlFallbackType: "image/jpeg")
        case .audio(let data, let format):
            return ["inlineData": ["mimeType": .string(MediaSource.audioType(format)), "data": .string(data)]]
        case .file(let file):
            guard let data = file.fileData else { return nil }
            return media(MediaSource.parse(data, fallbackType: "application/pdf"), urlFallbackType: "application/pdf")
        }
    }

    static func media(_ source: MediaSource, urlFallbackType: String) -> JSON {
        switch source {
        case .inline(let type, let data):
            return ["inlineData": ["mimeType": .string(type), "data": .string(data)]]
        case .url(let url):
            let type = MediaSource.guessType(ofURL: url, fallback: urlFallbackType)
            return ["fileData": ["mimeType": .string(type), "fileUri": .string(url)]]
        }
    }
}

extension GeminiTranslation {
    /// `candidates[0]`: text parts (thoughts left out) joined, `functionCall` parts as tool calls
    /// (ids made up where Gemini gives none); `finishReason` mapped.
    static func reply(_ json: JSON) -> Result<ParsedReply, ParsedContentError> {
        let candidate = json["candidates"]?[0]
        let raw = candidate?["finishReason"]?.stringValue
        if candidate == nil || candidate?.kind != .object {
            if let reason = json["promptFeedback"]?["blockReason"]?.stringValue {
                return .success(ParsedReply(message: AssistantMessage(content: nil), finish: .contentFilter, providerFinish: reason))
            }
            return .failure(.init(why: "response has no candidates"))
        }
        var text = ""
        var calls: [ToolCall] = []
        for part in candidate?["content"]?["parts"]?.arrayValue ?? [] where part["thought"]?.boolValue != true {
            if let piece = part["text"]?.stringValue { text += piece }
            if let call = part["functionCall"], let name = call["name"]?.stringValue {
                let id = call["id"]?.stringValue ?? "call_\(calls.count)"
                calls.append(ToolCall(id: id, name: name, arguments: call["args"]?.serialized ?? "{}"))
            }
        }
        var finish = raw.flatMap(finishReason(_:))
        if finish == .stop, !calls.isEmpty { finish = .toolCalls }
        let malformed = raw == "MALFORMED_FUNCTION_CALL" ? "the model produced a malformed function call" : nil
        let message = AssistantMessage(content: text.isEmpty ? nil : text, toolCalls: calls)
        return .success(ParsedReply(message: message, finish: finish, providerFinish: raw, malformed: malformed))
    }

    static func finishReason(_ raw: String) -> FinishReason? {
        if raw == "STOP" { return .stop }
        if raw == "MAX_TOKENS" { return .length }
        if blockingFinishReasons.contains(raw) { return .contentFilter }
        return nil
    }
}
