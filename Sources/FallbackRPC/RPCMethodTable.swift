/// What a deferred method gets besides its params: who asked, and a way to talk back before the reply.
public struct RPCCallContext: Sendable {
    /// The request's id; `nil` for a notification (which gets no reply, and no notifications either).
    public let id: JSON?
    /// Who sent it (the Unix socket peer's credentials), when known.
    public let peer: RPCPeer?
    let send: @Sendable (JSON) -> Void

    public init(id: JSON?, peer: RPCPeer? = nil, send: @escaping @Sendable (JSON) -> Void) {
        self.id = id
        self.peer = peer
        self.send = send
    }

    /// A context that drops every notification (batches, tests).
    public static func silent(id: JSON?, peer: RPCPeer? = nil) -> RPCCallContext {
        RPCCallContext(id: id, peer: peer, send: { _ in })
    }

    /// Sends the notification `{"jsonrpc":"2.0","method":method,"params":params}` on the caller's
    /// connection, ahead of the reply. Nothing is sent for a request that is itself a notification.
    public func notify(_ method: String, params: JSON) {
        guard id != nil else { return }
        send(["jsonrpc": "2.0", "method": .string(method), "params": params])
    }
}

/// The process on the other end of a Unix socket connection, from `SO_PEERCRED`.
public struct RPCPeer: Sendable, Hashable {
    public var uid: UInt32
    public var gid: UInt32
    /// 0 when the peer's pid is not visible here (another pid namespace).
    public var pid: Int32
    /// The peer's executable name (`/proc/PID/comm`), when readable.
    public var executable: String?
    /// The app name fallbackd gives it (its `[apps.NAME]` rule, else its executable).
    public var app: String?

    public init(uid: UInt32, gid: UInt32, pid: Int32, executable: String? = nil, app: String? = nil) {
        self.uid = uid
        self.gid = gid
        self.pid = pid
        self.executable = executable
        self.app = app
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
