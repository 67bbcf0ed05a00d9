import FallbackRPC

/// One chat message of a `complete` request.
public struct Message: Sendable, Equatable {
    /// Who speaks a message.
    public enum Role: String, Sendable, Equatable, CaseIterable {
        /// Instructions that frame the conversation.
        case system
        /// The human side.
        case user
        /// Earlier model output, for multi-turn conversations.
        case assistant
    }

    public var role: Role
    public var content: String

    public init(role: Role, content: String) {
        self.role = role
        self.content = content
    }

    /// A system message.
    public static func system(_ content: String) -> Message { Message(role: .system, content: content) }
    /// A user message.
    public static func user(_ content: String) -> Message { Message(role: .user, content: content) }
    /// An assistant message.
    public static func assistant(_ content: String) -> Message { Message(role: .assistant, content: content) }

    /// `{"role": ..., "content": ...}` as the daemon expects it.
    public var json: JSON { ["role": .string(role.rawValue), "content": .string(content)] }

    /// The messages for a plain prompt: an optional system message, then the prompt as a user message.
    public static func conversation(prompt: String, system: String? = nil) -> [Message] {
        var messages: [Message] = []
        if let system { messages.append(.system(system)) }
        messages.append(.user(prompt))
        return messages
    }
}
