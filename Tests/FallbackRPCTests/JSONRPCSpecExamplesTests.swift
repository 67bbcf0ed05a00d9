import Synchronization
import Testing

@testable import FallbackRPC

/// Section 7 of https://www.jsonrpc.org/specification, run line by line through `RPCDispatcher.handle`.
/// Replies are compared structurally (jansson's json_equal) after cutting error objects down to their
/// code: the spec's messages ("Method not found") are examples, fallbackd's say more.
@Suite("JSON-RPC 2.0 specification examples")
struct JSONRPCSpecExamplesTests {
    /// Notifications the `update` and `notify_hello` handlers saw.
    final class Calls: Sendable {
        let updates = Mutex<[JSON?]>([])
    }

    let calls = Calls()
    let dispatcher: RPCDispatcher

    init() {
        var table = RPCMethodTable()
        table.register("subtract", .immediate { params in
            if let minuend = params?["minuend"]?.intValue, let subtrahend = params?["subtrahend"]?.intValue {
                return .success(.int(minuend - subtrahend))
            }
            guard let a = params?[0]?.intValue, let b = params?[1]?.intValue else {
                return .failure(.invalidParams(field: "params", "two integers"))
            }
            return .success(.int(a - b))
        })
        table.register("sum", .immediate { params in
            .success(.int(params?.arrayValue?.compactMap(\.intValue).reduce(0, +) ?? 0))
        })
        let calls = self.calls
        table.register("update", .immediate { params in
            calls.updates.withLock { $0.append(params) }
            return .success(.null)
        })
        table.register("notify_hello", .immediate { params in
            calls.updates.withLock { $0.append(params) }
            return .success(.null)
        })
        table.register("get_data", .immediate { _ in .success(["hello", 5]) })
        dispatcher = RPCDispatcher(methods: table, gate: InFlightGate(maxInFlight: 10))
    }

    /// The reply to `request`, checked against the spec's `expected` reply text.
    func exchange(_ request: String, _ expected: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let reply = try #require(dispatcher.handle(request).reply, "no reply", sourceLocation: sourceLocation)
        #expect(normalized(reply) == normalized(try json(expected)), "\(reply)", sourceLocation: sourceLocation)
    }

    /// `request` must get no reply at all.
    func silent(_ request: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let outcome = dispatcher.handle(request)
        #expect(outcome.isNone, "expected no reply, got \(outcome)", sourceLocation: sourceLocation)
    }

    @Test("rpc call with positional parameters")
    func positional() throws {
        try exchange(#"{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}"#, #"{"jsonrpc": "2.0", "result": 19, "id": 1}"#)
        try exchange(#"{"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2}"#, #"{"jsonrpc": "2.0", "result": -19, "id": 2}"#)
    }

    @Test("rpc call with named parameters")
    func named() throws {
        try exchange(
            #"{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}"#,
            #"{"jsonrpc": "2.0", "result": 19, "id": 3}"#)
        try exchange(
            #"{"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": 4}"#,
            #"{"jsonrpc": "2.0", "result": 19, "id": 4}"#)
    }

    @Test("a notification gets no reply, but its handler runs")
    func notification() throws {
        silent(#"{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}"#)
        silent(#"{"jsonrpc": "2.0", "method": "foobar"}"#)
        #expect(calls.updates.withLock { $0 } == [try json("[1,2,3,4,5]")])
    }

    @Test("rpc call of non-existent method: -32601 naming the method")
    func methodNotFound() throws {
        try exchange(
            #"{"jsonrpc": "2.0", "method": "foobar", "id": "1"}"#,
            #"{"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "1"}"#)
        let reply = try #require(dispatcher.handle(#"{"jsonrpc": "2.0", "method": "foobar", "id": "1"}"#).reply)
        #expect(reply["error"]?["data"] == ["method": "foobar"])
    }

    @Test("rpc call with invalid JSON: -32700, id null")
    func invalidJSON() throws {
        try exchange(
            #"{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]"#,
            #"{"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null}"#)
    }

    @Test("rpc call with invalid Request object: -32600, id null")
    func invalidRequestObject() throws {
        try exchange(
            #"{"jsonrpc": "2.0", "method": 1, "params": "bar"}"#,
            #"{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}"#)
    }

    @Test("rpc call batch, invalid JSON: one -32700")
    func batchInvalidJSON() throws {
        try exchange(
            """
            [{"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},{"jsonrpc": "2.0", "method"]
            """,
            #"{"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null}"#)
    }

    @Test("rpc call with an empty array: one -32600, not an array")
    func emptyBatch() throws {
        try exchange("[]", #"{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}"#)
        #expect(dispatcher.handle("[]").reply?.kind == .object)
    }

    @Test("rpc call with an invalid batch (but not empty): one error in an array")
    func invalidBatchOne() throws {
        try exchange("[1]", #"[{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}]"#)
    }

    @Test("rpc call with invalid batch: one error per element")
    func invalidBatchThree() throws {
        try exchange(
            "[1,2,3]",
            """
            [{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null},
             {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null},
             {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}]
            """)
    }

    @Test("rpc call batch: replies in request order, notifications left out")
    func mixedBatch() throws {
        try exchange(
            """
            [{"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
             {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
             {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
             {"foo": "boo"},
             {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
             {"jsonrpc": "2.0", "method": "get_data", "id": "9"}]
            """,
            """
            [{"jsonrpc": "2.0", "result": 7, "id": "1"},
             {"jsonrpc": "2.0", "result": 19, "id": "2"},
             {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null},
             {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "5"},
             {"jsonrpc": "2.0", "result": ["hello", 5], "id": "9"}]
            """)
        #expect(calls.updates.withLock { $0 } == [try json("[7]")])
    }

    @Test("rpc call batch (all notifications): no reply")
    func allNotificationBatch() throws {
        silent(
            """
            [{"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},
             {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}]
            """)
        #expect(calls.updates.withLock { $0 } == [try json("[7]")])
    }

    @Test("the normalisation used here does not hide a wrong code")
    func normalisationKeepsCodes() throws {
        let reply = try #require(dispatcher.handle(#"{"jsonrpc": "2.0", "method": "foobar", "id": "1"}"#).reply)
        #expect(normalized(reply) != normalized(try json(#"{"jsonrpc": "2.0", "error": {"code": -32600}, "id": "1"}"#)))
        #expect(normalized(reply) != normalized(try json(#"{"jsonrpc": "2.0", "error": {"code": -32601}, "id": 1}"#)))
    }
}
