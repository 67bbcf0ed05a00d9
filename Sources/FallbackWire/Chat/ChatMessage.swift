/// Who wrote a message, as OpenAI's Chat Completions API names them.
public enum ChatRole: String, Sendable, Hashable, CaseIterable {
    /// Instructions; `developer` is the newer name OpenAI uses for the same place.
    case system, developer
    case user, assistant
    /// A tool's result, answering an assistant's tool call by `tool_call_id`.
    case tool

    /// `system` or `developer`: instructions that go to a provider's system slot.
    public var isInstruction: Bool { self == .system || self == .developer }
}

/// One part of a message whose content is an array.
public enum ContentPart: Sendable, Hashable {
    case text(String)
    /// An image by `http(s)` URL or `data:` URL; `detail` is OpenAI's `low`/`high`/`auto`.
    case image(url: String, detail: String?)
    /// Base64 audio with its format (`wav`, `mp3`).
    case audio(data: String, format: String)
    /// A document: inline (`data:` URL or bare base64 in `file_data`), or an OpenAI file id.
    case file(FilePart)

    /// The parts as OpenAI would read them.
    public var typeName: String {
        switch self {
        case .text: "text"
        case .image: "image_url"
        case .audio: "input_audio"
        case .file: "file"
        }
    }
}

/// A document part (`{"type":"file","file":{...}}`).
public struct FilePart: Sendable, Hashable {
    /// OpenAI's uploaded-file id: only OpenAI can read it.
    public var fileID: String?
    /// `data:application/pdf;base64,...` or bare base64.
    public var fileData: String?
    public var filename: String?

    public init(fileID: String? = nil, fileData: String? = nil, filename: String? = nil) {
        self.fileID = fileID
        self.fileData = fileData
        self.filename = filename
    }
}

/// A message's content: one string, or an array of parts.
public enum MessageContent: Sendable, Hashable {
    case text(String)
    case parts([ContentPart])

    /// The text parts joined (for token estimates, similarity and providers that take text only).
    public var text: String {
        switch self {
        case .text(let text): return text
        case .parts(let parts):
            var out = ""
            for case .text(let text) in parts { out += text }
            return out
        }
    }

    /// Every part, a plain string counting as one text part.
    public var parts: [ContentPart] {
        switch self {
        case .text(let text): [.text(text)]
        case .parts(let parts): parts
        }
    }
}

/// A function call an assistant made: OpenAI's `{"id","type":"function","function":{"name","arguments"}}`.
public struct ToolCall: Sendable, Hashable {
    public var id: String
    public var name: String
    /// The arguments as the JSON text the model wrote (OpenAI keeps them a string).
    public var arguments: String

    public init(id: String, name: String, arguments: String) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }
}

/// One message of a conversation, in OpenAI's Chat Completions shape.
public struct ChatMessage: Sendable, Hashable {
    public var role: ChatRole
    /// `nil` for an assistant turn that only calls tools.
    public var content: MessageContent?
    /// OpenAI's participant name.
    public var name: String?
    /// The calls an assistant turn made.
    public var toolCalls: [ToolCall]
    /// On a `tool` message: the call it answers.
    public var toolCallID: String?
    /// An assistant turn's refusal, when it refused.
    public var refusal: String?

    public init(
        role: ChatRole, content: MessageContent?, name: String? = nil, toolCalls: [ToolCall] = [],
        toolCallID: String? = nil, refusal: String? = nil
    ) {
        self.role = role
        self.content = content
        self.name = name
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
        self.refusal = refusal
    }

    /// A text message.
    public init(role: ChatRole, text: String) {
        self.init(role: role, content: .text(text))
    }

    /// A text message (the seed's `{role, content}`).
    public init(role: ChatRole, content: String) {
        self.init(role: role, content: .text(content))
    }

    /// The content's text parts joined; empty without content.
    public var text: String { content?.text ?? "" }
}

extension ChatMessage {
    /// A system message.
    public static func system(_ text: String) -> ChatMessage { ChatMessage(role: .system, text: text) }
    /// A user message.
    public static func user(_ text: String) -> ChatMessage { ChatMessage(role: .user, text: text) }
    /// A user message with parts (text, images, audio, documents).
    public static func user(_ parts: [ContentPart]) -> ChatMessage { ChatMessage(role: .user, content: .parts(parts)) }
    /// An assistant message.
    public static func assistant(_ text: String) -> ChatMessage { ChatMessage(role: .assistant, text: text) }
    /// An assistant turn that called tools.
    public static func assistant(calling calls: [ToolCall], text: String? = nil) -> ChatMessage {
        ChatMessage(role: .assistant, content: text.map { .text($0) }, toolCalls: calls)
    }
    /// A tool's result for `callID`.
    public static func tool(_ result: String, callID: String) -> ChatMessage {
        ChatMessage(role: .tool, content: .text(result), toolCallID: callID)
    }

    /// The messages for a plain prompt: an optional system message, then the prompt as a user message.
    public static func conversation(prompt: String, system: String? = nil) -> [ChatMessage] {
        var messages: [ChatMessage] = []
        if let system { messages.append(.system(system)) }
        messages.append(.user(prompt))
        return messages
    }
}
