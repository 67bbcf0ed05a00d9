import FallbackCore

/// OpenAI Chat Completions is fallbackd's lingua franca: a request goes through as the caller sent
/// it, with only the model and the output cap rewritten (and, for reasoning models, the sampling
/// parameters they reject left out). Pure functions, unit-tested against the API reference's bodies.
enum OpenAITranslation {
    /// Sampling parameters reasoning models (o-series, gpt-5) answer 400 to.
    static let reasoningRejects = ["temperature", "top_p", "presence_penalty", "frequency_penalty", "logit_bias"]

    static func body(_ request: ProviderRequest, kind: ProviderKind) -> JSON {
        var body = request.chat.body
        body["model"] = .string(request.model.modelID)
        body["max_tokens"] = nil
        body["max_completion_tokens"] = nil
        // Streaming is a transport choice fallbackd makes per attempt, never the caller's flag passed on.
        body["stream"] = nil
        body["stream_options"] = nil
        if request.model.reasoning {
            for key in reasoningRejects { body[key] = nil }
            body["max_completion_tokens"] = .int(request.maxOutputTokens)
        } else {
            // OpenAI deprecated max_tokens; compatible servers (vLLM, Ollama) all still read it.
            body[kind == .openai ? "max_completion_tokens" : "max_tokens"] = .int(request.maxOutputTokens)
            if request.chat.temperature == nil, let temperature = request.temperature {
                body["temperature"] = .double(temperature)
            }
        }
        return body
    }

    /// What a reasoning model went without (the caller's sampling parameters).
    static func ignoredFields(_ request: ProviderRequest) -> [String] {
        guard request.model.reasoning else { return [] }
        let chat = request.chat
        var ignored: [String] = []
        if chat.temperature != nil { ignored.append("temperature") }
        if chat.topP != nil { ignored.append("top_p") }
        if (chat.presencePenalty ?? 0) != 0 { ignored.append("presence_penalty") }
        if (chat.frequencyPenalty ?? 0) != 0 { ignored.append("frequency_penalty") }
        return ignored
    }

    /// `choices[0]`: content, tool calls and refusal, with the finish reason mapped.
    static func reply(_ json: JSON) -> Result<ParsedReply, ParsedContentError> {
        guard let choice = json["choices"]?[0], choice.kind == .object else { return .failure(.init(why: "response has no choices")) }
        guard let message = choice["message"], message.kind == .object else {
            return .failure(.init(why: "response has no message"))
        }
        let raw = choice["finish_reason"]?.stringValue
        let calls = (message["tool_calls"]?.arrayValue ?? []).compactMap(ToolCall.init(json:))
        let assistant = AssistantMessage(content: text(of: message), toolCalls: calls, refusal: message["refusal"]?.stringValue)
        return .success(ParsedReply(message: assistant, finish: raw.flatMap(finishReason(_:)), providerFinish: raw))
    }

    static func finishReason(_ raw: String) -> FinishReason? {
        switch raw {
        case "stop": .stop
        case "length": .length
        case "tool_calls", "function_call": .toolCalls
        case "content_filter": .contentFilter
        default: nil
        }
    }

    /// `content` as a string, or the text parts of a content array joined; `nil` when absent or empty.
    static func text(of message: JSON) -> String? {
        guard let content = message["content"] else { return nil }
        if let text = content.stringValue { return text.isEmpty ? nil : text }
        guard let parts = content.arrayValue else { return nil }
        let text = parts.compactMap { $0["text"]?.stringValue }.joined()
        return text.isEmpty ? nil : text
    }
}
