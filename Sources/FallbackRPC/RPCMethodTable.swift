/// What a deferred method gets besides its params: who asked, and a way to talk back before the reply.
public struct RPCCallContext: Sendable {
    /// The request's id; `nil` for a notification (which gets no reply, and no notifications either).
    public let id: JSON?
    let send: @Sendable (JSON) -> Void

    public init(id: JSON?, send: @escaping @Sendable (JSON) -> Void) {
        self.id = id
        self.send = send
    }

    /// A context that drops every notification (batches, tests).
    public static func silent(id: JSON?) -> RPCCallContext { RPCCallContext(id: id, send: { _ in }) }

    /// Sends the notification `{"jsonrpc":"2.0","method":method,"params":params}` on the caller's
    /// connection, ahead of the reply. Nothing is sent for a request that is itself a notification.
    public func notify(_ method: String, params: JSON) {
        guard id != nil else { return }
        send(["jsonrpc": "2.0", "method": .string(method), "params": params])
    }
}

/// How a method runs.
public enum RPCHandler: Sendable {
    /// Cheap and non-blocking: answered on the connection's event loop, before the next line is read.
    case immediate(@Sendable (JSON?) -> Result<JSON, RPCError>)
    /// Awaits I/O: runs as a child of its connection's task group, counted by the in-flight gate;
    /// its reply may overtake earlier ones, and it may send notifications through its context.
    case deferred(@Sendable (JSON?, RPCCallContext) async -> Result<JSON, RPCError>)
}

/// Method name to handler: one table, each name registered once.
public struct RPCMethodTable: Sendable {
    public private(set) var handlers: [String: RPCHandler] = [:]

    public init() {}

    /// Adds `method`. Registering a name twice is a programming error caught at start-up.
    public mutating func register(_ method: String, _ handler: RPCHandler) {
        precondition(handlers[method] == nil, "RPC method '\(method)' registered twice")
        handlers[method] = handler
    }

    public subscript(method: String) -> RPCHandler? { handlers[method] }

    /// Every method name, sorted.
    public var methodNames: [String] { handlers.keys.sorted() }
}
