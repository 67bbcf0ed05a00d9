/// A validated JSON-RPC 2.0 request; `id == nil` means a notification (no reply).
public struct RPCRequest: Sendable {
    public var id: JSON?
    public var method: String
    public var params: JSON?

    public init(id: JSON?, method: String, params: JSON? = nil) {
        self.id = id
        self.method = method
        self.params = params
    }

    public var isNotification: Bool { id == nil }
}

/// One element of a line: a request to run, or a reply already decided (an invalid request).
public enum RPCItem: Sendable {
    case request(RPCRequest)
    case invalid(RPCError, id: JSON)
}

/// What one line holds.
public enum RPCEnvelope: Sendable {
    case single(RPCItem)
    case batch([RPCItem])
    /// The line is not JSON, or an empty batch: answer with this error and `id: null`.
    case unanswerable(RPCError)

    /// Decodes one line per JSON-RPC 2.0, including every error case of the spec.
    public static func decode(_ line: UnsafeRawBufferPointer) -> RPCEnvelope {
        let json: JSON
        do {
            json = try JSON.parse(line)
        } catch {
            return .unanswerable(.parseError(error.description))
        }
        if let elements = json.arrayValue {
            guard !elements.isEmpty else { return .unanswerable(.invalidRequest("empty batch")) }
            return .batch(elements.map(RPCItem.init(validating:)))
        }
        return .single(RPCItem(validating: json))
    }
}

extension RPCItem {
    /// Validates one request object.
    public init(validating json: JSON) {
        guard json.kind == .object else {
            self = .invalid(.invalidRequest("a request must be an object"), id: .null)
            return
        }
        let id = json["id"]
        if let id, ![.string, .integer, .real, .null].contains(id.kind) {
            self = .invalid(.invalidRequest("id must be a string, number or null"), id: .null)
            return
        }
        let replyID = id ?? .null
        guard json["jsonrpc"]?.stringValue == "2.0" else {
            self = .invalid(.invalidRequest("jsonrpc must be \"2.0\""), id: replyID)
            return
        }
        guard let method = json["method"]?.stringValue else {
            self = .invalid(.invalidRequest("method must be a string"), id: replyID)
            return
        }
        let params = json["params"]
        if let params, params.kind != .object, params.kind != .array {
            self = .invalid(.invalidRequest("params must be an object or an array"), id: replyID)
            return
        }
        self = .request(RPCRequest(id: id, method: method, params: params))
    }
}

/// Builds reply objects.
public enum RPCResponse {
    public static func success(id: JSON, result: JSON) -> JSON {
        ["jsonrpc": "2.0", "id": id, "result": result]
    }

    public static func failure(id: JSON, error: RPCError) -> JSON {
        ["jsonrpc": "2.0", "id": id, "error": error.json]
    }

    /// The reply to `request`, or `nil` for a notification.
    public static func reply(to request: RPCRequest, _ outcome: Result<JSON, RPCError>) -> JSON? {
        guard let id = request.id else { return nil }
        switch outcome {
        case .success(let result): return success(id: id, result: result)
        case .failure(let error): return failure(id: id, error: error)
        }
    }
}
