import Testing

@testable import FallbackRPC

@Suite("RPCError")
struct RPCErrorTests {
    @Test("the wire shape is code, message, then data when there is data")
    func jsonShape() {
        #expect(RPCError(code: -32603, message: "internal error: x").json.serialized == #"{"code":-32603,"message":"internal error: x"}"#)
        #expect(RPCError(code: -32603, message: "m").json["data"] == nil)
        let withData = RPCError(code: -32005, message: "busy", data: ["in_flight": 3, "max_in_flight": 3])
        #expect(withData.json.serialized == #"{"code":-32005,"message":"busy","data":{"in_flight":3,"max_in_flight":3}}"#)
        #expect(RPCError(code: 1, message: "null data", data: .null).json.serialized == #"{"code":1,"message":"null data","data":null}"#)
    }

    @Test("RPCError(json:) round-trips code, message and data")
    func roundTrip() throws {
        let errors = [
            RPCError.parseError("bad"), .invalidRequest("empty batch"), .methodNotFound("foobar"),
            .invalidParams(field: "messages[0].role", "must be system, user or assistant"), .internalError("oops"),
            RPCError(code: RPCErrorCode.allModelsFailed, message: "all models failed", data: ["attempts": [["model": "gpt-4o"]]]),
        ]
        for error in errors {
            let back = try #require(RPCError(json: error.json))
            #expect(back.code == error.code)
            #expect(back.message == error.message)
            #expect(back.data == error.data)
            // Through text as well.
            let reparsed = try #require(RPCError(json: try JSON.parse(error.json.serialized)))
            #expect(reparsed.json == error.json)
        }
    }

    @Test("RPCError(json:) refuses what is not an error object")
    func notAnError() throws {
        #expect(RPCError(json: try json(#"{"message":"no code"}"#)) == nil)
        #expect(RPCError(json: try json(#"{"code":"-32600","message":"string code"}"#)) == nil)
        #expect(RPCError(json: try json(#"{"code":-32600.5}"#)) == nil)
        #expect(RPCError(json: try json("[-32600]")) == nil)
        #expect(RPCError(json: .int(-32600)) == nil)
        let bare = try #require(RPCError(json: try json(#"{"code":-32000}"#)))
        #expect(bare.message == "")
        #expect(bare.data == nil)
    }

    @Test("the helpers use the spec's codes and fill data", arguments: [
        (RPCError.parseError("x"), -32700),
        (RPCError.invalidRequest("x"), -32600),
        (RPCError.methodNotFound("x"), -32601),
        (RPCError.invalidParams(field: "f", "r"), -32602),
        (RPCError.internalError("x"), -32603),
    ])
    func helperCodes(error: RPCError, code: Int) {
        #expect(error.code == code)
    }

    @Test("helper messages and data")
    func helperDetails() {
        #expect(RPCError.methodNotFound("complete2").message == "method not found: complete2")
        #expect(RPCError.methodNotFound("complete2").data == ["method": "complete2"])
        let params = RPCError.invalidParams(field: "messages[0].role", "unknown role")
        #expect(params.message == "invalid params: messages[0].role: unknown role")
        #expect(params.data == ["field": "messages[0].role", "reason": "unknown role"])
        #expect(RPCError.invalidRequest("x", data: ["max_line_bytes": 8]).data?["max_line_bytes"]?.intValue == 8)
        #expect(RPCError.parseError("x").data == nil)
    }

    @Test("fallbackd's own codes match the spec")
    func codes() {
        #expect(RPCErrorCode.shuttingDown == -32000)
        #expect(RPCErrorCode.allModelsFailed == -32001)
        #expect(RPCErrorCode.deadlineExceeded == -32002)
        #expect(RPCErrorCode.allBreakersOpen == -32003)
        #expect(RPCErrorCode.budgetExceeded == -32004)
        #expect(RPCErrorCode.overloaded == -32005)
    }
}
