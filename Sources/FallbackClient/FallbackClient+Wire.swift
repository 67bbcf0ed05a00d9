import FallbackRPC

/// The JSON-RPC framing: request lines out, reply objects in.
extension FallbackClient {
    /// `{"jsonrpc":"2.0","id":N,"method":M[,"params":P]}` plus the terminating newline.
    ///
    /// The compact serialization escapes control characters, so it never holds a raw newline.
    static func requestLine(method: String, params: JSON?, id: Int) -> [UInt8] {
        var request: JSON = ["jsonrpc": "2.0", "id": .int(id), "method": .string(method)]
        if let params { request["params"] = params }
        var bytes = request.serializedBytes
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    /// Reads lines until the reply for `id` arrives.
    ///
    /// An error reply with `"id": null` (parse error, line too long) concerns the request
    /// just sent, since only one is in flight, so it is returned too. Replies for other ids
    /// (a late answer to a request that timed out) are skipped.
    static func readReply(
        id: Int, from connection: UnixSocketConnection, before deadline: ContinuousClock.Instant,
        onNotification: ((JSON) -> Void)? = nil
    ) throws(TransportFailure) -> JSON {
        while true {
            let line = try connection.readLine(before: deadline)
            if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") }) {
                continue
            }
            let reply: JSON
            do {
                reply = try JSON.parse(line)
            } catch {
                let text = String(decoding: line.prefix(200), as: UTF8.self)
                throw .malformed("fallbackd sent a line that is not JSON (\(error)): \(text)")
            }
            guard reply.kind == .object else { continue }
            if reply["id"] == nil, reply["method"] != nil {
                onNotification?(reply)
                continue
            }
            let replyID = reply["id"]
            if replyID?.intValue == id { return reply }
            if replyID?.isNull ?? true, let error = reply["error"], !error.isNull { return reply }
        }
    }

    /// The `result` of a reply object, or its error thrown as `.rpc`.
    static func result(of reply: JSON) throws(FallbackClientError) -> JSON {
        if let error = reply["error"], !error.isNull {
            guard let rpcError = RPCError(json: error) else {
                throw .protocolError("malformed error object in reply: \(excerpt(of: error))")
            }
            throw .rpc(rpcError)
        }
        guard let result = reply["result"] else {
            throw .protocolError("reply has neither result nor error: \(excerpt(of: reply))")
        }
        return result
    }

    /// Calls `method` and decodes its result with a wire-contract type; a result that does not
    /// fit the contract is a `.protocolError` naming the method and the field.
    func decoded<Value>(
        _ method: String, params: JSON? = nil, timeout: Duration? = nil, _ decode: (JSON) throws(WireError) -> Value
    ) throws(FallbackClientError) -> Value {
        let result = try call(method, params: params, timeout: timeout)
        do {
            return try decode(result)
        } catch {
            throw .protocolError("\(method) result: \(error): \(Self.excerpt(of: result))")
        }
    }

    /// The first 200 characters of `json`'s serialization, for messages.
    static func excerpt(of json: JSON) -> String {
        let text = json.serialized
        return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }
}
