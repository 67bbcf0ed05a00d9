import FallbackRPC

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking JSON-RPC 2.0 client for a running fallbackd, over its Unix socket.
///
/// The connection is opened on first use and kept. Requests run one at a time (a lock
/// serialises them), so one client can be shared between threads and tasks; give each its
/// own client for parallel requests. A kept connection the daemon closed in the meantime (restart,
/// idle close) is replaced before sending; once any byte of a request was written it is never sent
/// again (a `complete` the daemon received must not become a second paid call), so a connection
/// that ends before the reply fails the call with `.io`.
///
/// ```swift
/// let client = FallbackClient()
/// let completion = try client.complete("Say hi", task: "default")
/// print(completion.content, completion.modelUsed)
/// ```
public final class FallbackClient: Sendable {
    /// The daemon socket this client talks to.
    public let socketPath: String
    /// How long a call waits for its reply unless told otherwise.
    public let timeout: Duration

    private let state = Locked(ConnectionState())

    /// A client for the daemon at `socketPath` (default: `defaultSocketPath()`).
    ///
    /// Nothing is connected until the first call.
    /// - Parameter timeout: how long each call waits for its reply. `complete` waits longer
    ///   when its own `timeoutMs` needs it, so the daemon's deadline always fires first.
    public init(socketPath: String? = nil, timeout: Duration = .seconds(60)) {
        self.socketPath = socketPath ?? Self.defaultSocketPath()
        self.timeout = timeout
    }

    /// Where fallbackd listens unless told otherwise: `$FALLBACKD_SOCKET`, else
    /// `$XDG_RUNTIME_DIR/fallbackd.sock`, else `/tmp/fallbackd-$UID.sock`.
    /// Empty variables count as unset.
    public static func defaultSocketPath() -> String {
        var environment: [String: String] = [:]
        for name in ["FALLBACKD_SOCKET", "XDG_RUNTIME_DIR"] {
            if let value = getenv(name) { environment[name] = String(cString: value) }
        }
        return defaultSocketPath(environment: environment, uid: UInt32(getuid()))
    }

    /// `defaultSocketPath()` for a given environment and user id.
    public static func defaultSocketPath(environment: [String: String], uid: UInt32) -> String {
        if let explicit = environment["FALLBACKD_SOCKET"], !explicit.isEmpty {
            return explicit
        }
        if let runtimeDir = environment["XDG_RUNTIME_DIR"], !runtimeDir.isEmpty {
            return runtimeDir.hasSuffix("/") ? runtimeDir + "fallbackd.sock" : runtimeDir + "/fallbackd.sock"
        }
        return "/tmp/fallbackd-\(uid).sock"
    }

    /// Sends one request and returns its `result`.
    ///
    /// - Parameters:
    ///   - method: the JSON-RPC method (`ping`, `status`, `models`, `chains`, `complete`, `health`,
    ///     `breakers`, `breaker.reset`, `breaker.isolate`, `route`, `report`).
    ///   - params: an object or array, or `nil` to send none.
    ///   - timeout: overrides the client's timeout for this call.
    /// - Throws: `.rpc` for an error reply, `.unavailable` when nothing listens on the socket,
    ///   `.timeout`, `.io` or `.protocolError` for transport trouble.
    public func call(
        _ method: String, params: JSON? = nil, timeout: Duration? = nil
    ) throws(FallbackClientError) -> JSON {
        try call(method, params: params, timeout: timeout, onNotification: nil)
    }

    /// `call`, handing the notifications that arrive before the reply to `onNotification`
    /// (a streaming `complete`'s deltas), with the request's id.
    func call(
        _ method: String, params: JSON?, timeout: Duration?, onNotification: ((JSON, Int) -> Void)?
    ) throws(FallbackClientError) -> JSON {
        let deadline = ContinuousClock.now + (timeout ?? self.timeout)
        let reply = try state.withLock { (state) throws(FallbackClientError) -> JSON in
            let id = state.nextID()
            let line = Self.requestLine(method: method, params: params, id: id)
            return try exchange(line, id: id, state: &state, deadline: deadline, onNotification: onNotification.map { handler in { handler($0, id) } })
        }
        return try Self.result(of: reply)
    }

    /// Closes the connection; the next call opens a new one.
    public func close() {
        state.withLock { $0.connection = nil }
    }

    /// Sends `line` and reads the reply for `id`. A connection found closed before any byte was
    /// written is replaced once; after that nothing is resent. Any failure but an error reply drops
    /// the connection.
    private func exchange(
        _ line: [UInt8], id: Int, state: inout ConnectionState, deadline: ContinuousClock.Instant,
        onNotification: ((JSON) -> Void)? = nil
    ) throws(FallbackClientError) -> JSON {
        var replaced = false
        while true {
            let connection = try state.liveConnection(to: socketPath)
            do {
                try connection.send(line, before: deadline)
                return try Self.readReply(id: id, from: connection, before: deadline, onNotification: onNotification)
            } catch {
                state.connection = nil
                switch error {
                case .closedBeforeSending where !replaced:
                    replaced = true
                case .closed, .closedBeforeSending:
                    throw .io(
                        "fallbackd at \(socketPath) closed the connection before replying (is it shutting down?); "
                            + "the request was not resent because the daemon may have received it")
                case .timeout:
                    throw .timeout
                case .system(let detail):
                    throw .io(detail)
                case .lineTooLong(let bytes):
                    throw .protocolError("reply line exceeds \(bytes) bytes without a newline")
                case .malformed(let detail):
                    throw .protocolError(detail)
                }
            }
        }
    }
}
