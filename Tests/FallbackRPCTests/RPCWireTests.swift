import Testing

@testable import FallbackRPC

@Suite("RPC wire: request validation and replies")
struct RPCWireTests {
    func item(_ text: String) throws -> RPCItem { RPCItem(validating: try json(text)) }

    func invalid(_ text: String) throws -> (RPCError, JSON)? {
        if case .invalid(let error, let id) = try item(text) { return (error, id) }
        return nil
    }

    @Test("a valid request keeps id, method and params")
    func validRequest() throws {
        guard case .request(let request) = try item(#"{"jsonrpc":"2.0","method":"complete","params":{"a":1},"id":"r-1"}"#) else {
            Issue.record("not a request")
            return
        }
        #expect(request.method == "complete")
        #expect(request.id == "r-1")
        #expect(request.params == ["a": 1])
        #expect(!request.isNotification)
    }

    @Test("ids: string, integer, real and null are requests; absent is a notification")
    func idKinds() throws {
        for (text, id) in [(#""x""#, JSON.string("x")), ("7", .int(7)), ("1.5", .double(1.5)), ("null", .null)] {
            guard case .request(let request) = try item(#"{"jsonrpc":"2.0","method":"m","id":\#(text)}"#) else {
                Issue.record("id \(text) refused")
                continue
            }
            #expect(request.id == id)
            #expect(!request.isNotification, "id \(text) is a request, not a notification")
        }
        guard case .request(let note) = try item(#"{"jsonrpc":"2.0","method":"m"}"#) else {
            Issue.record("notification refused")
            return
        }
        #expect(note.isNotification)
        #expect(note.params == nil)
    }

    @Test("id null is answered with id null")
    func nullIDAnswered() throws {
        let request = RPCRequest(id: .null, method: "m")
        let reply = try #require(RPCResponse.reply(to: request, .success("ok")))
        #expect(reply == (try json(#"{"jsonrpc":"2.0","id":null,"result":"ok"}"#)))
        #expect(RPCResponse.reply(to: RPCRequest(id: nil, method: "m"), .success("ok")) == nil)
    }

    @Test("invalid requests: the reason, and the id when it could be read", arguments: [
        (#"{"jsonrpc":"2.0","method":"m","id":true}"#, "null"),
        (#"{"jsonrpc":"2.0","method":"m","id":{"a":1}}"#, "null"),
        (#"{"jsonrpc":"2.0","method":"m","id":[1]}"#, "null"),
        (#"{"jsonrpc":"1.0","method":"m","id":5}"#, "5"),
        (#"{"method":"m","id":"s"}"#, #""s""#),
        (#"{"jsonrpc":2.0,"method":"m","id":5}"#, "5"),
        (#"{"jsonrpc":"2.0","id":5}"#, "5"),
        (#"{"jsonrpc":"2.0","method":null,"id":5}"#, "5"),
        (#"{"jsonrpc":"2.0","method":"m","params":"bar","id":5}"#, "5"),
        (#"{"jsonrpc":"2.0","method":"m","params":3}"#, "null"),
        ("[]", "null"),
        (#""just a string""#, "null"),
    ])
    func invalidRequests(text: String, id: String) throws {
        let (error, replyID) = try #require(try invalid(text))
        #expect(error.code == RPCErrorCode.invalidRequest)
        #expect(replyID == (try json(id)))
    }

    @Test("decode: parse errors, empty batch, batches and singles")
    func envelopes() {
        func decode(_ text: String) -> RPCEnvelope {
            var text = text
            return text.withUTF8 { RPCEnvelope.decode(UnsafeRawBufferPointer($0)) }
        }
        if case .unanswerable(let error) = decode("{") { #expect(error.code == -32700) } else { Issue.record("{") }
        if case .unanswerable(let error) = decode("") { #expect(error.code == -32700) } else { Issue.record("empty") }
        if case .unanswerable(let error) = decode("[]") { #expect(error.code == -32600) } else { Issue.record("[]") }
        if case .batch(let items) = decode(#"[{"jsonrpc":"2.0","method":"a"},1]"#) {
            #expect(items.count == 2)
            if case .invalid = items[1] {} else { Issue.record("1 must be invalid") }
        } else {
            Issue.record("batch")
        }
        if case .single(.request(let request)) = decode(#"{"jsonrpc":"2.0","method":"a","params":[]}"#) {
            #expect(request.params == [])
        } else {
            Issue.record("single")
        }
    }

    @Test("a parse error's message carries jansson's position")
    func parseErrorMessage() {
        var text = "{\"a\":"
        let envelope = text.withUTF8 { RPCEnvelope.decode(UnsafeRawBufferPointer($0)) }
        guard case .unanswerable(let error) = envelope else {
            Issue.record("not unanswerable")
            return
        }
        #expect(error.message.hasPrefix("parse error: "))
        #expect(error.message.contains("line 1"))
    }

    @Test("reply objects: jsonrpc, id, then result or error")
    func replyShape() {
        #expect(RPCResponse.success(id: 1, result: ["x": true]).serialized == #"{"jsonrpc":"2.0","id":1,"result":{"x":true}}"#)
        #expect(
            RPCResponse.failure(id: "a", error: .methodNotFound("m")).serialized
                == #"{"jsonrpc":"2.0","id":"a","error":{"code":-32601,"message":"method not found: m","data":{"method":"m"}}}"#)
    }

    @Test("the method table: register, look up, list sorted")
    func methodTable() {
        var table = RPCMethodTable()
        table.register("status", .immediate { _ in .success(2) })
        table.register("ping", .immediate { _ in .success("pong") })
        #expect(table.methodNames == ["ping", "status"])
        #expect(table["nope"] == nil)
        if case .immediate(let run) = table["status"] {
            #expect((try? run(nil).get())?.intValue == 2)
        } else {
            Issue.record("status is not immediate")
        }
    }
}
