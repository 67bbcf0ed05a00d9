import FallbackRPC

/// Everything a `FallbackClient` call can fail with.
public enum FallbackClientError: Error, Sendable, CustomStringConvertible {
    /// Nothing accepts connections on `path` (`reason` is the system's, e.g. "No such file or directory").
    case unavailable(path: String, reason: String)
    /// The connection broke or a system call failed mid-request.
    case io(String)
    /// No reply arrived within the call's timeout (the connection is dropped).
    case timeout
    /// The daemon sent something that is not a JSON-RPC reply of the expected shape.
    case protocolError(String)
    /// The daemon answered with a JSON-RPC error.
    case rpc(RPCError)

    /// The JSON-RPC error, if the daemon answered with one.
    public var rpcError: RPCError? {
        if case .rpc(let error) = self { return error }
        return nil
    }

    /// The JSON-RPC error code, if the daemon answered with an error.
    public var code: Int? { rpcError?.code }

    /// Every model of the chain failed (-32001); `attempts` says how each one did.
    public var isAllModelsFailed: Bool { code == RPCErrorCode.allModelsFailed }
    /// The request's overall deadline passed (-32002).
    public var isDeadlineExceeded: Bool { code == RPCErrorCode.deadlineExceeded }
    /// Every model of the chain has an open breaker (-32003); `retryAfterMs` says when to retry.
    public var isAllBreakersOpen: Bool { code == RPCErrorCode.allBreakersOpen }
    /// Too many requests in flight (-32005); retrying later may succeed.
    public var isOverloaded: Bool { code == RPCErrorCode.overloaded }
    /// The daemon is draining for shutdown (-32000).
    public var isShuttingDown: Bool { code == RPCErrorCode.shuttingDown }
    /// The params were rejected (-32602); `invalidField` names the offending one.
    public var isInvalidParams: Bool { code == RPCErrorCode.invalidParams }
    /// The daemon could not be reached at all.
    public var isUnavailable: Bool {
        if case .unavailable = self { return true }
        return false
    }

    /// For -32602, the offending field (`messages[0].role`).
    public var invalidField: String? { rpcError?.data?["field"]?.stringValue }

    /// For -32003, how long until the first breaker of the chain lets a probe through, in
    /// milliseconds; `nil` for other errors, or when no breaker will reopen by itself (all isolated).
    public var retryAfterMs: Int? { rpcError?.data?["retry_after_ms"]?.roundedInt }

    /// For -32001, -32002 and -32003, the chain's models in planned order with their reasons; empty otherwise.
    public var route: [RouteEntry] { RouteEntry.list(rpcError?.data?["route"]) }

    /// For -32001, -32002 and -32003, the attempts made before giving up; empty otherwise.
    public var attempts: [Completion.Attempt] {
        rpcError?.data?["attempts"]?.arrayValue?.map(Completion.Attempt.init(json:)) ?? []
    }

    /// For -32001, -32002 and -32003, the daemon's request id (`r-...`).
    public var requestID: String? { rpcError?.data?["request_id"]?.stringValue }

    /// What went wrong and what to do about it.
    public var description: String {
        switch self {
        case .unavailable(let path, let reason):
            return "no fallbackd listening on \(path) (\(reason)); start it with "
                + "`fallbackd --config config/demo.toml`, or point FALLBACKD_SOCKET or --socket at its socket"
        case .io(let detail):
            return "connection to fallbackd failed: \(detail)"
        case .timeout:
            return "no reply from fallbackd within the timeout; the daemon may be stuck or overloaded "
                + "(check its log), or allow a longer timeout"
        case .protocolError(let detail):
            return "unexpected reply from fallbackd: \(detail); is the socket really fallbackd's, "
                + "and do client and daemon versions match?"
        case .rpc(let error):
            let hint = Self.hint(for: error)
            return "fallbackd error \(error.code) (\(Self.name(of: error.code))): \(error.message)"
                + (hint.map { "; \($0)" } ?? "")
        }
    }

    /// A short name for a JSON-RPC error code, e.g. "all models failed".
    public static func name(of code: Int) -> String {
        switch code {
        case RPCErrorCode.parseError: "parse error"
        case RPCErrorCode.invalidRequest: "invalid request"
        case RPCErrorCode.methodNotFound: "method not found"
        case RPCErrorCode.invalidParams: "invalid params"
        case RPCErrorCode.internalError: "internal error"
        case RPCErrorCode.shuttingDown: "shutting down"
        case RPCErrorCode.allModelsFailed: "all models failed"
        case RPCErrorCode.deadlineExceeded: "deadline exceeded"
        case RPCErrorCode.allBreakersOpen: "all breakers open"
        case RPCErrorCode.budgetExceeded: "budget exceeded"
        case RPCErrorCode.overloaded: "overloaded"
        default: "error"
        }
    }

    /// Advice for the codes where there is some.
    private static func hint(for error: RPCError) -> String? {
        switch error.code {
        case RPCErrorCode.methodNotFound:
            "the methods are ping, status, models, chains, complete, health, breakers, breaker.reset, "
                + "breaker.isolate, route, report, cost.report and shadow.report"
        case RPCErrorCode.shuttingDown:
            "the daemon is draining; retry once it has restarted"
        case RPCErrorCode.allModelsFailed:
            "check each attempt's error_type, and the providers' keys and limits in the daemon config"
        case RPCErrorCode.deadlineExceeded:
            "raise timeout_ms or shorten the chain"
        case RPCErrorCode.allBreakersOpen:
            "`fallbackctl breakers` shows when each breaker reopens; "
                + "`fallbackctl breaker reset MODEL` closes one by hand"
        case RPCErrorCode.budgetExceeded:
            "the task's [budgets] entry caps its spend per UTC day; `fallbackctl cost --days 1` shows the spend"
        case RPCErrorCode.overloaded:
            "too many requests in flight; retry shortly"
        default:
            nil
        }
    }
}
