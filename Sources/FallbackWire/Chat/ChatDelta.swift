/// A fragment of a tool call in a stream: the first fragment of call `index` carries its `id` and
/// `name`, later ones append to its `arguments`.
public struct ToolCallDelta: Sendable, Hashable {
    public var index: Int
    public var id: String?
    public var name: String?
    public var arguments: String

    public init(index: Int, id: String? = nil, name: String? = nil, arguments: String = "") {
        self.index = index
        self.id = id
        self.name = name
        self.arguments = arguments
    }

    /// OpenAI's chunk shape: `{"index","id"?,"type":"function"?,"function":{"name"?,"arguments"?}}`.
    public var json: JSON {
        var function = JSON.emptyObject
        if let name { function["name"] = .string(name) }
        if !arguments.isEmpty { function["arguments"] = .string(arguments) }
        var object: JSON = ["index": .int(index)]
        if let id {
            object["id"] = .string(id)
            object["type"] = "function"
        }
        object["function"] = function
        return object
    }

    public init?(json: JSON) {
        guard let index = json["index"]?.intValue else { return nil }
        self.init(
            index: index, id: json["id"]?.stringValue, name: json["function"]?["name"]?.stringValue,
            arguments: json["function"]?["arguments"]?.stringValue ?? "")
    }
}

/// One piece of a streamed answer, in OpenAI's `chat.completion.chunk` delta shape: text to
/// append, tool-call fragments, refusal text; the last one carries the finish reason and usage.
public struct ChatDelta: Sendable, Hashable {
    public var content: String?
    public var toolCalls: [ToolCallDelta]
    public var refusal: String?
    public var finishReason: FinishReason?
    public var usage: Usage?

    public init(
        content: String? = nil, toolCalls: [ToolCallDelta] = [], refusal: String? = nil, finishReason: FinishReason? = nil,
        usage: Usage? = nil
    ) {
        self.content = content
        self.toolCalls = toolCalls
        self.refusal = refusal
        self.finishReason = finishReason
        self.usage = usage
    }

    /// Whether this delta gives the caller part of the answer: text, a tool call or a refusal.
    /// The first such delta commits a streaming request to its model.
    public var carriesAnswer: Bool {
        !(content ?? "").isEmpty || !toolCalls.isEmpty || !(refusal ?? "").isEmpty
    }

    /// The delta object of a `complete.delta` notification: only the members that carry something.
    public var json: JSON {
        var object = JSON.emptyObject
        if let content, !content.isEmpty { object["content"] = .string(content) }
        if !toolCalls.isEmpty { object["tool_calls"] = .array(toolCalls.map(\.json)) }
        if let refusal, !refusal.isEmpty { object["refusal"] = .string(refusal) }
        if let finishReason { object["finish_reason"] = .string(finishReason.rawValue) }
        if let usage { object["usage"] = usage.json }
        return object
    }

    public init(json: JSON) {
        self.init(
            content: json["content"]?.stringValue,
            toolCalls: (json["tool_calls"]?.arrayValue ?? []).compactMap(ToolCallDelta.init(json:)),
            refusal: json["refusal"]?.stringValue,
            finishReason: json["finish_reason"]?.stringValue.flatMap(FinishReason.init(rawValue:)),
            usage: json["usage"].map { Usage(json: $0) })
    }
}

/// Adds deltas up into the message they stream: text appended, tool calls assembled by index.
public struct StreamAccumulator: Sendable {
    public private(set) var content = ""
    public private(set) var refusal = ""
    public private(set) var toolCalls: [ToolCall] = []
    public private(set) var finishReason: FinishReason?
    public private(set) var usage: Usage?
    /// Positions in `toolCalls` by stream index.
    private var slots: [Int: Int] = [:]

    public init() {}

    public mutating func add(_ delta: ChatDelta) {
        if let text = delta.content { content += text }
        if let text = delta.refusal { refusal += text }
        for fragment in delta.toolCalls {
            if let slot = slots[fragment.index] {
                if let id = fragment.id, toolCalls[slot].id.isEmpty { toolCalls[slot].id = id }
                if let name = fragment.name, toolCalls[slot].name.isEmpty { toolCalls[slot].name = name }
                toolCalls[slot].arguments += fragment.arguments
            } else {
                slots[fragment.index] = toolCalls.count
                toolCalls.append(ToolCall(id: fragment.id ?? "", name: fragment.name ?? "", arguments: fragment.arguments))
            }
        }
        if let finish = delta.finishReason { finishReason = finish }
        if let usage = delta.usage { self.usage = usage }
    }

    /// The message so far.
    public var message: AssistantMessage {
        AssistantMessage(
            content: content.isEmpty ? nil : content, toolCalls: toolCalls, refusal: refusal.isEmpty ? nil : refusal)
    }

    /// Text delivered so far, in Unicode code points (what Python's `len()` counts).
    public var contentCharacters: Int { content.unicodeScalars.count }
}
