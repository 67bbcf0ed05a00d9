/// How a method runs.
public enum RPCHandler: Sendable {
    /// Cheap and non-blocking: answered on the connection's event loop, before the next line is read.
    case immediate(@Sendable (JSON?) -> Result<JSON, RPCError>)
    /// Awaits I/O: runs as a task, counted by the in-flight gate; its reply may overtake earlier ones.
    case deferred(@Sendable (JSON?) async -> Result<JSON, RPCError>)
}

/// Method name to handler.
public struct RPCMethodTable: Sendable {
    public private(set) var handlers: [String: RPCHandler] = [:]

    public init() {}

    public mutating func register(_ method: String, _ handler: RPCHandler) {
        handlers[method] = handler
    }

    public subscript(method: String) -> RPCHandler? { handlers[method] }

    public var methodNames: [String] { handlers.keys.sorted() }
}
