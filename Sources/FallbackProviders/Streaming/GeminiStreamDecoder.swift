import FallbackCore

/// Gemini `streamGenerateContent?alt=sse`: each event is a whole GenerateContentResponse holding
/// the next text parts (thoughts left out) and whole `functionCall` parts; the last has the
/// `finishReason`. There is no end marker: the HTTP end closes a stream that gave its reason.
struct GeminiStreamDecoder: StreamDecoder {
    private(set) var ending = StreamEnding()
    private var toolCalls = 0

    mutating func decode(_ event: SSEEvent) -> [StreamEvent] {
        guard let json = try? JSON.parse(event.data), json.kind == .object else {
            return [.malformed("event is not a JSON object")]
        }
        if let error = json["error"], !error.isNull {
            let details = ProviderErrorClassifier.errorDetails(in: json)
            return [.failure(ProviderFailure(ProviderErrorClassifier.streamErrorType(details), message: details.message ?? "error event in the stream"))]
        }
        if let usage = ProviderText.usage(in: json) { ending.usage = usage }
        var piece = ChatDelta()
        let candidate = json["candidates"]?[0]
        for part in candidate?["content"]?["parts"]?.arrayValue ?? [] where part["thought"]?.boolValue != true {
            if let text = part["text"]?.stringValue { piece.content = (piece.content ?? "") + text }
            if let call = part["functionCall"], let name = call["name"]?.stringValue {
                let id = call["id"]?.stringValue ?? "call_\(toolCalls)"
                piece.toolCalls.append(ToolCallDelta(index: toolCalls, id: id, name: name, arguments: call["args"]?.serialized ?? "{}"))
                toolCalls += 1
            }
        }
        if let raw = candidate?["finishReason"]?.stringValue {
            ending.sawFinish = true
            ending.providerFinish = raw
            if raw == "MALFORMED_FUNCTION_CALL" {
                return [.failure(ProviderFailure(.badResponse, message: "the model produced a malformed function call"))]
            }
            var finish = GeminiTranslation.finishReason(raw)
            if finish == .stop, toolCalls > 0 { finish = .toolCalls }
            ending.finish = finish
        } else if json["promptFeedback"]?["blockReason"] != nil {
            return [.failure(ProviderFailure(.contentFilter, message: "prompt blocked"))]
        }
        return piece.carriesAnswer ? [.delta(piece)] : []
    }

    mutating func finish() -> [StreamEvent] {
        ending.finishBody()
    }
}
