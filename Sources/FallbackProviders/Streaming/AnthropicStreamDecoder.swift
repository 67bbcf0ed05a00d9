import FallbackCore

/// Anthropic's typed events: `message_start` (input usage), `content_block_start` / `_delta` /
/// `_stop` (text, and tool input as `input_json_delta` fragments), `message_delta` (stop reason,
/// output usage), `message_stop`; `ping` is ignored and an `error` event is the provider failing.
/// The JSON-answer tool's input streams as the answer's text.
struct AnthropicStreamDecoder: StreamDecoder {
    private(set) var ending = StreamEnding()
    /// The tool that carries a JSON answer, when the request asked for one.
    let answerTool: String?
    /// Content block index to what it streams.
    private var blocks: [Int: Block] = [:]
    private var nextToolIndex = 0
    private var inputUsage = Usage()
    private var answered = false

    enum Block: Sendable {
        case text
        case answer
        case tool(index: Int)
        case ignored
    }

    init(answerTool: String?) {
        self.answerTool = answerTool
    }

    mutating func decode(_ event: SSEEvent) -> [StreamEvent] {
        guard let json = try? JSON.parse(event.data), json.kind == .object else {
            return [.malformed("event is not a JSON object")]
        }
        switch json["type"]?.stringValue ?? event.event {
        case "message_start":
            if let usage = json["message"].flatMap({ ProviderText.usage(in: $0) }) { inputUsage = usage }
            return []
        case "content_block_start":
            return start(json)
        case "content_block_delta":
            return delta(json)
        case "message_delta":
            if let raw = json["delta"]?["stop_reason"]?.stringValue {
                ending.sawFinish = true
                ending.providerFinish = raw
                var finish = AnthropicTranslation.finishReason(raw)
                if answered, finish == .toolCalls, nextToolIndex == 0 { finish = .stop }
                ending.finish = finish
            }
            let output = json["usage"]?["output_tokens"]?.intValue ?? 0
            var usage = inputUsage
            usage.outputTokens = output
            ending.usage = usage
            return []
        case "message_stop":
            return ending.close()
        case "error":
            let details = ProviderErrorClassifier.errorDetails(in: json)
            return [.failure(ProviderFailure(ProviderErrorClassifier.streamErrorType(details), message: details.message ?? "error event in the stream"))]
        default:
            return []
        }
    }

    private mutating func start(_ json: JSON) -> [StreamEvent] {
        guard let index = json["index"]?.intValue, let block = json["content_block"] else { return [] }
        switch block["type"]?.stringValue {
        case "text":
            blocks[index] = .text
            let text = block["text"]?.stringValue ?? ""
            return text.isEmpty ? [] : [.delta(ChatDelta(content: text))]
        case "tool_use":
            let name = block["name"]?.stringValue ?? ""
            if name == answerTool {
                blocks[index] = .answer
                answered = true
                return []
            }
            let tool = nextToolIndex
            nextToolIndex += 1
            blocks[index] = .tool(index: tool)
            return [.delta(ChatDelta(toolCalls: [ToolCallDelta(index: tool, id: block["id"]?.stringValue ?? "", name: name)]))]
        default:
            blocks[index] = .ignored
            return []
        }
    }

    private mutating func delta(_ json: JSON) -> [StreamEvent] {
        guard let index = json["index"]?.intValue, let delta = json["delta"] else { return [] }
        switch (blocks[index], delta["type"]?.stringValue) {
        case (.text?, "text_delta"):
            let text = delta["text"]?.stringValue ?? ""
            return text.isEmpty ? [] : [.delta(ChatDelta(content: text))]
        case (.answer?, "input_json_delta"):
            let text = delta["partial_json"]?.stringValue ?? ""
            return text.isEmpty ? [] : [.delta(ChatDelta(content: text))]
        case (.tool(let tool)?, "input_json_delta"):
            let text = delta["partial_json"]?.stringValue ?? ""
            return text.isEmpty ? [] : [.delta(ChatDelta(toolCalls: [ToolCallDelta(index: tool, arguments: text)]))]
        default:
            return []
        }
    }

    mutating func finish() -> [StreamEvent] {
        ending.finishBody()
    }
}
