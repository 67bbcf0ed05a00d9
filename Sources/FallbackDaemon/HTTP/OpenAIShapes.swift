import FallbackCore
import FallbackRPC

/// fallbackd's results in the shapes OpenAI's API returns: `chat.completion`, `chat.completion.chunk`
/// and the `{"error": {...}}` object, so an unchanged OpenAI SDK reads them.
enum OpenAIShapes {
    /// A `chat.completion` for a served request; `model` is the pool model that served.
    static func completion(_ completion: Completion, created: Int) -> JSON {
        var choice: JSON = ["index": 0, "message": completion.message.json, "logprobs": .null]
        choice["finish_reason"] = .optional(completion.finishReason?.rawValue)
        return [
            "id": .string(completionID(completion.requestID)), "object": "chat.completion", "created": .int(created),
            "model": .string(completion.modelUsed), "choices": [choice], "usage": usage(completion.usage),
            "system_fingerprint": .null,
        ]
    }

    /// One `chat.completion.chunk` carrying `delta` (and its finish reason in the same place OpenAI puts it).
    static func chunk(_ delta: ChatDelta, requestID: String, model: String, created: Int, first: Bool) -> JSON {
        var body = JSON.emptyObject
        if first { body["role"] = "assistant" }
        if let content = delta.content, !content.isEmpty { body["content"] = .string(content) }
        if let refusal = delta.refusal, !refusal.isEmpty { body["refusal"] = .string(refusal) }
        if !delta.toolCalls.isEmpty { body["tool_calls"] = .array(delta.toolCalls.map(\.json)) }
        let choice: JSON = [
            "index": 0, "delta": body, "logprobs": .null, "finish_reason": .optional(delta.finishReason?.rawValue),
        ]
        return [
            "id": .string(completionID(requestID)), "object": "chat.completion.chunk", "created": .int(created),
            "model": .string(model), "choices": [choice],
        ]
    }

    /// The usage chunk `stream_options.include_usage` asks for: no choices.
    static func usageChunk(_ usage: Usage, requestID: String, model: String, created: Int) -> JSON {
        [
            "id": .string(completionID(requestID)), "object": "chat.completion.chunk", "created": .int(created),
            "model": .string(model), "choices": .emptyArray, "usage": self.usage(usage),
        ]
    }

    static func usage(_ usage: Usage) -> JSON {
        [
            "prompt_tokens": .int(usage.inputTokens), "completion_tokens": .int(usage.outputTokens),
            "total_tokens": .int(usage.inputTokens + usage.outputTokens),
            "prompt_tokens_details": ["cached_tokens": .int(usage.cachedInputTokens)],
            "completion_tokens_details": ["reasoning_tokens": .int(usage.reasoningTokens)],
        ]
    }

    static func completionID(_ requestID: String) -> String { "chatcmpl-" + requestID }

    /// `{"error": {"message", "type", "param", "code"}}` with fallbackd's details beside.
    static func error(message: String, type: String, code: String?, param: String? = nil, details: JSON? = nil) -> JSON {
        var error: JSON = [
            "message": .string(message), "type": .string(type), "param": .optional(param), "code": .optional(code),
        ]
        if let details { error["fallbackd"] = details }
        return ["error": error]
    }

    /// How a JSON-RPC error of `complete` reads over HTTP: the status, OpenAI's error object, and
    /// how long to wait before retrying when there is something to say.
    static func httpError(_ error: RPCError, nowMillis: Int64) -> (status: Int, body: JSON, retryAfterSeconds: Int?) {
        let data = error.data
        switch error.code {
        case RPCErrorCode.invalidParams:
            return (400, self.error(message: error.message, type: "invalid_request_error", code: "invalid_request",
                                    param: data?["field"]?.stringValue, details: data), nil)
        case RPCErrorCode.budgetExceeded:
            let resets = data?["resets_at_ms"]?.intValue.map { max(1, ($0 - Int(nowMillis) + 999) / 1000) }
            return (429, self.error(message: error.message, type: "insufficient_quota", code: "budget_exceeded", details: data), resets)
        case RPCErrorCode.allBreakersOpen:
            let wait = data?["retry_after_ms"]?.intValue.map { max(1, ($0 + 999) / 1000) } ?? 1
            return (503, self.error(message: error.message, type: "server_error", code: "all_breakers_open", details: data), wait)
        case RPCErrorCode.overloaded:
            return (503, self.error(message: error.message, type: "server_error", code: "overloaded", details: data), 1)
        case RPCErrorCode.shuttingDown:
            return (503, self.error(message: error.message, type: "server_error", code: "shutting_down", details: data), 1)
        case RPCErrorCode.deadlineExceeded:
            return (504, self.error(message: error.message, type: "timeout", code: "deadline_exceeded", details: data), nil)
        case RPCErrorCode.forbidden:
            return (403, self.error(message: error.message, type: "permission_error", code: "forbidden", details: data), nil)
        case RPCErrorCode.contentFiltered:
            return (400, self.error(message: error.message, type: "invalid_request_error", code: "content_filter", details: data), nil)
        case RPCErrorCode.allModelsFailed, RPCErrorCode.streamInterrupted:
            return (502, self.error(message: error.message, type: "server_error", code: "all_models_failed", details: data), nil)
        default:
            return (500, self.error(message: error.message, type: "server_error", code: "internal_error", details: data), nil)
        }
    }
}
