import FallbackClient
import FallbackRPC
import Testing

/// Streaming `complete`: notifications before the reply become events, in order.
@Suite struct FallbackClientStreamTests {
    static let result = #"{"content":"Hello","tool_calls":[],"refusal":null,"finish_reason":"stop","model_used":"m2","attempts":[]}"#

    @Test func deltasAndResetsArriveInOrderAndOtherRequestsAreIgnored() async throws {
        let server = try FakeServer { request, _ in
            let id = request["id"]?.intValue ?? 0
            return .lines([
                #"{"jsonrpc":"2.0","method":"complete.delta","params":{"id":\#(id),"model":"m1","delta":{"content":"Hal"}}}"#,
                #"{"jsonrpc":"2.0","method":"complete.delta","params":{"id":\#(id + 99),"model":"mx","delta":{"content":"not ours"}}}"#,
                #"{"jsonrpc":"2.0","method":"complete.reset","params":{"id":\#(id),"model":"m1","reason":"timeout"}}"#,
                #"{"jsonrpc":"2.0","method":"complete.delta","params":{"id":\#(id),"model":"m2","delta":{"content":"Hel"}}}"#,
                #"{"jsonrpc":"2.0","method":"complete.delta","params":{"id":\#(id),"model":"m2","delta":{"content":"lo"}}}"#,
                #"{"jsonrpc":"2.0","method":"complete.delta","params":{"id":\#(id),"model":"m2","delta":{"finish_reason":"stop","usage":{"input_tokens":3,"output_tokens":2}}}}"#,
                #"{"jsonrpc":"2.0","id":\#(id),"result":\#(Self.result)}"#,
            ])
        }
        defer { server.stop() }
        let client = FallbackClient(socketPath: server.path, timeout: .seconds(5))
        var seen: [String] = []
        var text = ""
        for try await event in client.events(CompleteParams(chat: ChatRequest(messages: [.user("hi")]), onInterrupt: "restart")) {
            switch event {
            case .delta(let delta, let model):
                seen.append("delta \(model) \(delta.content ?? delta.finishReason?.rawValue ?? "")")
                text += delta.content ?? ""
            case .reset(let model, let reason):
                seen.append("reset \(model) \(reason)")
                text = ""
            case .completed(let completion):
                seen.append("completed \(completion.content ?? "")")
            }
        }
        #expect(seen == ["delta m1 Hal", "reset m1 timeout", "delta m2 Hel", "delta m2 lo", "delta m2 stop", "completed Hello"])
        #expect(text == "Hello")
        let params = try #require(server.requests.first?["params"])
        #expect(params["stream"] == true && params["on_interrupt"] == "restart")
        #expect(server.requests.count == 1, "sent once")
    }

    @Test func anInterruptedStreamThrowsTheRPCError() throws {
        let server = try FakeServer { request, _ in
            let id = request["id"]?.intValue ?? 0
            return .lines([
                #"{"jsonrpc":"2.0","method":"complete.delta","params":{"id":\#(id),"model":"m1","delta":{"content":"Once"}}}"#,
                #"{"jsonrpc":"2.0","id":\#(id),"error":{"code":-32006,"message":"stream interrupted","data":{"model":"m1","reason":"connection","delivered":{"content_chars":4,"tool_calls":0,"tool_call_open":false}}}}"#,
            ])
        }
        defer { server.stop() }
        let client = FallbackClient(socketPath: server.path, timeout: .seconds(5))
        var received = ""
        let error = #expect(throws: FallbackClientError.self) {
            try client.stream(CompleteParams(chat: ChatRequest(messages: [.user("hi")]))) { event in
                if case .delta(let delta, _) = event { received += delta.content ?? "" }
            }
        }
        guard case .rpc(let rpc) = error else {
            Issue.record("expected .rpc, got \(String(describing: error))")
            return
        }
        #expect(rpc.code == RPCErrorCode.streamInterrupted)
        #expect(rpc.data?["delivered"]?["content_chars"]?.intValue == received.unicodeScalars.count)
    }
}
