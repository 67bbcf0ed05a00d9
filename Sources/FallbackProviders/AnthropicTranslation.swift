import FallbackCore

/// OpenAI Chat Completions to Anthropic Messages and back. Pure functions.
///
/// - `system`/`developer` text goes to `system` blocks; user parts become text, image (base64 or
///   URL) and document blocks; assistant `tool_calls` become `tool_use` blocks and `tool` messages
///   `tool_result` blocks in a user turn; consecutive same-role turns are merged, as the API requires.
/// - `response_format` `json_schema`/`json_object` is carried by a tool whose `input_schema` is the
///   schema, which the model is made to call (`tool_choice` `tool`, or `any` beside the caller's own
///   tools); its input comes back as the answer's JSON text. This works on every Claude model.
/// - `reasoning_effort` becomes `thinking` with a token budget added to `max_tokens`.
enum AnthropicTranslation {
    /// The name of the tool that carries a JSON answer when the schema has none.
    static let jsonTool = "json_response"

    static func body(_ request: ProviderRequest) -> JSON {
        let chat = request.chat
        var body: JSON = ["model": .string(request.model.modelID)]
        var maxTokens = max(1, request.maxOutputTokens)
        var thinking = false
        if let effort = chat.reasoningEffort, request.model.capabilities.contains(.reasoning) {
            let budget = ThinkingBudget.tokens(for: effort)
            body["thinking"] = ["type": "enabled", "budget_tokens": .int(budget)]
            maxTokens += budget
            thinking = true
        }
        body["max_tokens"] = .int(maxTokens)
        let system = systemBlocks(chat.messages, cache: request.model.promptCache)
        if system.count > 0 { body["system"] = system }
        body["messages"] = messages(chat.messages)
        // Extended thinking runs at temperature 1 and rejects top_p below 0.95: leave both out then.
        if !thinking {
            if let temperature = request.temperature { body["temperature"] = .double(min(max(0, temperature), 1)) }
            if let topP = chat.topP { body["top_p"] = .double(topP) }
        }
        if !chat.stop.isEmpty { body["stop_sequences"] = .array(chat.stop.map { .string($0) }) }
        if let user = chat.user { body["metadata"] = ["user_id": .string(user)] }
        let (tools, choice) = toolsAndChoice(chat, cache: request.model.promptCache, thinking: thinking)
        if tools.count > 0 { body["tools"] = tools }
        if let choice { body["tool_choice"] = choice }
        return body
    }

    /// Request fields Anthropic has no place for (they are advisory, or outside the schema).
    static func ignoredFields(_ request: ProviderRequest) -> [String] {
        var ignored = request.chat.extra.map(\.key)
        if request.chat.reasoningEffort != nil {
            if request.chat.temperature != nil { ignored.append("temperature") }
            if request.chat.topP != nil { ignored.append("top_p") }
        }
        return ignored
    }

    static func systemBlocks(_ messages: [ChatMessage], cache: Bool) -> JSON {
        var blocks: [JSON] = []
        for message in messages where message.role.isInstruction && !message.text.isEmpty {
            blocks.append(["type": "text", "text": .string(message.text)])
        }
        if cache { markCacheable(&blocks) }
        return .array(blocks)
    }

    /// `cache_control` on the last block: the prefix up to it is cached.
    static func markCacheable(_ blocks: inout [JSON]) {
        guard !blocks.isEmpty else { return }
        blocks[blocks.count - 1]["cache_control"] = ["type": "ephemeral"]
    }

    /// The conversation as Anthropic turns: tool results in user turns, same-role turns merged.
    static func messages(_ messages: [ChatMessage]) -> JSON {
        var turns: [(role: String, blocks: [JSON])] = []
        for message in messages where !message.role.isInstruction {
            let role = message.role == .assistant ? "assistant" : "user"
            let blocks = self.blocks(of: message)
            guard !blocks.isEmpty else { continue }
            if let last = turns.last, last.role == role {
                turns[turns.count - 1].blocks += blocks
            } else {
                turns.append((role, blocks))
            }
        }
        return .array(turns.map { ["role": .string($0.role), "content": .array($0.blocks)] })
    }

    static func blocks(of message: ChatMessage) -> [JSON] {
        switch message.role {
        case .tool:
            var result: JSON = ["type": "tool_result", "tool_use_id": .string(message.toolCallID ?? "")]
            result["content"] = .string(message.text)
            return [result]
        case .assistant:
            var blocks: [JSON] = []
            let text = message.text.isEmpty ? (message.refusal ?? "") : message.text
            if !text.isEmpty { blocks.append(["type": "text", "text": .string(text)]) }
            for call in message.toolCalls {
                blocks.append(["type": "tool_use", "id": .string(call.id), "name": .string(call.name), "input": call.argumentsObject])
            }
            return blocks
        default:
            return (message.content?.parts ?? []).compactMap(block(of:))
        }
    }

    static func block(of part: ContentPart) -> JSON? {
        switch part {
        case .text(let text):
            return text.isEmpty ? nil : ["type": "text", "text": .string(text)]
        case .image(let url, _):
            return ["type": "image", "source": source(MediaSource.parse(url, fallbackType: "image/jpeg"))]
        case .file(let file):
            guard let data = file.fileData else { return nil }
            return ["type": "document", "source": source(MediaSource.parse(data, fallbackType: "application/pdf"))]
        case .audio:
            return nil  // no model without the audio capability is sent audio
        }
    }

    static func source(_ media: MediaSource) -> JSON {
        switch media {
        case .inline(let type, let data): ["type": "base64", "media_type": .string(type), "data": .string(data)]
        case .url(let url): ["type": "url", "url": .string(url)]
        }
    }

    /// Tools, with the JSON-answer tool when a response format asks for JSON, and the tool choice.
    static func toolsAndChoice(_ chat: ChatRequest, cache: Bool, thinking: Bool) -> (JSON, JSON?) {
        var tools: [JSON] = []
        for tool in chat.tools {
            var entry: JSON = ["name": .string(tool.name), "input_schema": tool.parameters ?? ["type": "object"]]
            if let description = tool.description { entry["description"] = .string(description) }
            tools.append(entry)
        }
        var choice: JSON?
        switch chat.toolChoice {
        case .none?: choice = ["type": "none"]
        case .auto?: choice = ["type": "auto"]
        case .required?: choice = ["type": "any"]
        case .function(let name)?: choice = ["type": "tool", "name": .string(name)]
        case nil: break
        }
        if let answer = jsonAnswerTool(chat.responseFormat) {
            tools.append(answer)
            let name = answer["name"] ?? .string(jsonTool)
            // Alone, the answer tool is forced; beside the caller's tools, some tool must be called.
            choice = chat.tools.isEmpty ? ["type": "tool", "name": name] : ["type": "any"]
        }
        // Thinking allows only auto and none.
        if thinking, let type = choice?["type"]?.stringValue, type == "any" || type == "tool" { choice = ["type": "auto"] }
        if chat.parallelToolCalls == false, !tools.isEmpty {
            var object = choice ?? ["type": "auto"]
            if object["type"]?.stringValue != "none" { object["disable_parallel_tool_use"] = true }
            choice = object
        }
        if cache { markCacheable(&tools) }
        return (.array(tools), choice)
    }

    /// The tool that carries a JSON answer, or `nil` for text answers.
    static func jsonAnswerTool(_ format: ResponseFormat?) -> JSON? {
        switch format {
        case .jsonSchema(let spec)?:
            var tool: JSON = ["name": .string(spec.name), "input_schema": spec.schema ?? ["type": "object"]]
            tool["description"] = .string(spec.description ?? "Respond with the answer as this tool's input.")
            return tool
        case .jsonObject?:
            return ["name": .string(jsonTool), "description": "Respond with the answer as a JSON object.", "input_schema": ["type": "object"]]
        default:
            return nil
        }
    }
}

extension AnthropicTranslation {
    /// `content` blocks to the assistant message: text joined, `tool_use` to tool calls (the JSON-answer
    /// tool's input to the text instead), thinking left out; `stop_reason` mapped.
    static func reply(_ json: JSON, answerTool: String?) -> Result<ParsedReply, ParsedContentError> {
        guard let blocks = json["content"]?.arrayValue else { return .failure(.init(why: "response has no content array")) }
        let raw = json["stop_reason"]?.stringValue
        var text = ""
        var calls: [ToolCall] = []
        var answered = false
        for block in blocks {
            switch block["type"]?.stringValue {
            case "text":
                text += block["text"]?.stringValue ?? ""
            case "tool_use":
                let name = block["name"]?.stringValue ?? ""
                let input = block["input"]?.serialized ?? "{}"
                if name == answerTool {
                    text = input
                    answered = true
                } else {
                    calls.append(ToolCall(id: block["id"]?.stringValue ?? "", name: name, arguments: input))
                }
            default:
                break
            }
        }
        var finish = raw.flatMap(finishReason(_:))
        // The JSON answer arrives as a tool call, but for the caller it is the answer itself.
        if answered, calls.isEmpty, finish == .toolCalls { finish = .stop }
        // A refusal with no text is an empty answer withheld by the provider (content_filter).
        let message = AssistantMessage(content: text.isEmpty ? nil : text, toolCalls: calls)
        return .success(ParsedReply(message: message, finish: finish, providerFinish: raw))
    }

    static func finishReason(_ raw: String) -> FinishReason? {
        switch raw {
        case "end_turn", "stop_sequence", "pause_turn": .stop
        case "max_tokens", "model_context_window_exceeded": .length
        case "tool_use": .toolCalls
        case "refusal": .contentFilter
        default: nil
        }
    }

    /// The name of the JSON-answer tool `request` adds, if any.
    static func answerToolName(_ chat: ChatRequest) -> String? {
        jsonAnswerTool(chat.responseFormat)?["name"]?.stringValue
    }
}
