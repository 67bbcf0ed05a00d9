import FallbackCore

/// OpenAI `chat.completion.chunk` events: `choices[0].delta` (content, tool-call fragments,
/// refusal), `finish_reason`, a `usage` chunk with `stream_options.include_usage`, then `[DONE]`.
/// An `error` object in the stream is the provider failing mid-answer.
struct OpenAIStreamDecoder: StreamDecoder {
    private(set) var ending = StreamEnding()

    mutating func decode(_ event: SSEEvent) -> [StreamEvent] {
        if event.data == "[DONE]" { return ending.close() }
        guard let json = try? JSON.parse(event.data), json.kind == .object else {
            return [.malformed("chunk is not a JSON object")]
        }
        if let error = json["error"], !error.isNull {
            let details = ProviderErrorClassifier.errorDetails(in: json)
            let type = details.type == "rate_limit_error" || details.code == "rate_limit_exceeded" ? ErrorType.rateLimited : .serverError
            return [.failure(ProviderFailure(type, message: details.message ?? "error event in the stream"))]
        }
        if let usage = ProviderText.usage(in: json) { ending.usage = usage }
        guard let choice = json["choices"]?[0] else { return [] }
        var events: [StreamEvent] = []
        if let delta = choice["delta"], delta.kind == .object {
            let piece = ChatDelta(
                content: delta["content"]?.stringValue,
                toolCalls: (delta["tool_calls"]?.arrayValue ?? []).compactMap(ToolCallDelta.init(json:)),
                refusal: delta["refusal"]?.stringValue)
            if piece.carriesAnswer { events.append(.delta(piece)) }
        }
        if let raw = choice["finish_reason"]?.stringValue {
            ending.sawFinish = true
            ending.providerFinish = raw
            ending.finish = OpenAITranslation.finishReason(raw)
        }
        return events
    }

    mutating func finish() -> [StreamEvent] {
        ending.finishBody()
    }
}
