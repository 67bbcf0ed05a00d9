/// A JSON-RPC error object: the spec's codes plus fallbackd's own (-32000 to -32099).
public struct RPCError: Error, Sendable {
    public var code: Int
    public var message: String
    public var data: JSON?

    public init(code: Int, message: String, data: JSON? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    /// The error object as it goes on the wire.
    public var json: JSON {
        var object: JSON = ["code": .int(code), "message": .string(message)]
        if let data { object["data"] = data }
        return object
    }

    /// Reads an error object from a reply; `nil` when it is not one.
    public init?(json: JSON) {
        guard let code = json["code"]?.intValue else { return nil }
        self.init(code: code, message: json["message"]?.stringValue ?? "", data: json["data"])
    }
}

/// Every error code fallbackd answers with; docs/protocol.md lists the same.
public enum RPCErrorCode {
    public static let parseError = -32700
    public static let invalidRequest = -32600
    public static let methodNotFound = -32601
    public static let invalidParams = -32602
    public static let internalError = -32603
    /// The daemon is draining for shutdown.
    public static let shuttingDown = -32000
    /// Every model of the chain failed.
    public static let allModelsFailed = -32001
    /// The request's overall deadline passed.
    public static let deadlineExceeded = -32002
    /// Every model of the chain has an open breaker; `data.retry_after_ms` says when to retry.
    public static let allBreakersOpen = -32003
    /// A task's budget is spent (reserved).
    public static let budgetExceeded = -32004
    /// Too many requests in flight.
    public static let overloaded = -32005
    /// A streaming `complete` failed after its first delta reached the caller.
    public static let streamInterrupted = -32006
    /// The provider refused the content; `data` has its reason (the chain does not fall back on a
    /// content filter unless configured to).
    public static let contentFiltered = -32007
    /// `reload` found the config invalid; nothing changed. `data.problems` lists every problem.
    public static let reloadFailed = -32008
    /// The calling app may not do this (its `[apps.NAME]` rule allows other tasks only).
    public static let forbidden = -32009
}

extension RPCError {
    public static func parseError(_ detail: String) -> RPCError {
        RPCError(code: RPCErrorCode.parseError, message: "parse error: \(detail)")
    }

    public static func invalidRequest(_ detail: String, data: JSON? = nil) -> RPCError {
        RPCError(code: RPCErrorCode.invalidRequest, message: "invalid request: \(detail)", data: data)
    }

    public static func methodNotFound(_ method: String) -> RPCError {
        RPCError(code: RPCErrorCode.methodNotFound, message: "method not found: \(method)", data: ["method": .string(method)])
    }

    /// Invalid params naming the offending field, e.g. `messages[0].role`.
    public static func invalidParams(field: String, _ reason: String) -> RPCError {
        RPCError(
            code: RPCErrorCode.invalidParams, message: "invalid params: \(field): \(reason)",
            data: ["field": .string(field), "reason": .string(reason)]
        )
    }

    public static func internalError(_ detail: String) -> RPCError {
        RPCError(code: RPCErrorCode.internalError, message: "internal error: \(detail)")
    }
}
