import FallbackCore
import FallbackRPC
import Testing

@testable import FallbackDaemon

@Suite("OpenAI facade shapes")
struct FacadeShapesTests {
    static func pool() throws -> ModelPool {
        let config = try ConfigLoader.parse(ConfigLoaderTests.minimal + "\nfast = [\"b\"]")
        return config.pool
    }

    @Test("model names a task, fallbackd/<task>, or a pool model with the default chain's rest")
    func modelNames() throws {
        let pool = try Self.pool()
        #expect(FacadeModel.resolve("fast", pool: pool, poolModelFallbacks: true) == .task("fast"))
        #expect(FacadeModel.resolve("fallbackd/default", pool: pool, poolModelFallbacks: true) == .task("default"))
        #expect(FacadeModel.resolve("b", pool: pool, poolModelFallbacks: true) == .models(["b", "a"]))
        #expect(FacadeModel.resolve("b", pool: pool, poolModelFallbacks: false) == .models(["b"]))
        #expect(FacadeModel.resolve("gpt-5", pool: pool, poolModelFallbacks: true) == nil)
        #expect(FacadeModel.resolve("fallbackd/nope", pool: pool, poolModelFallbacks: true) == nil)
        let params = FacadeModel.task("fast").params(from: ["model": "fast", "messages": [], "temperature": 0.5])
        #expect(params["model"] == nil && params["task"] == "fast" && params["temperature"] == 0.5)
    }

    @Test("each JSON-RPC error has its HTTP status and OpenAI error type")
    func errorStatuses() {
        let cases: [(Int32, Int, String)] = [
            (Int32(RPCErrorCode.invalidParams), 400, "invalid_request_error"),
            (Int32(RPCErrorCode.budgetExceeded), 429, "insufficient_quota"),
            (Int32(RPCErrorCode.allBreakersOpen), 503, "server_error"),
            (Int32(RPCErrorCode.overloaded), 503, "server_error"),
            (Int32(RPCErrorCode.deadlineExceeded), 504, "timeout"),
            (Int32(RPCErrorCode.allModelsFailed), 502, "server_error"),
            (Int32(RPCErrorCode.streamInterrupted), 502, "server_error"),
            (Int32(RPCErrorCode.contentFiltered), 400, "invalid_request_error"),
            (Int32(RPCErrorCode.forbidden), 403, "permission_error"),
        ]
        for (code, status, type) in cases {
            let mapped = OpenAIShapes.httpError(RPCError(code: Int(code), message: "m", data: ["retry_after_ms": 1500]), nowMillis: 0)
            #expect(mapped.status == status, "\(code)")
            #expect(mapped.body["error"]?["type"]?.stringValue == type, "\(code)")
            #expect(mapped.body["error"]?["message"] == "m")
        }
        let open = OpenAIShapes.httpError(RPCError(code: RPCErrorCode.allBreakersOpen, message: "m", data: ["retry_after_ms": 1500]), nowMillis: 0)
        #expect(open.retryAfterSeconds == 2)
        let budget = OpenAIShapes.httpError(
            RPCError(code: RPCErrorCode.budgetExceeded, message: "m", data: ["resets_at_ms": 10_500]), nowMillis: 1_000)
        #expect(budget.retryAfterSeconds == 10)
    }

    @Test("a stream: the role in the first chunk only; a break is an error event, never [DONE]")
    func chunkOrder() throws {
        var chat = try ChatRequest(decoding: ["messages": [["role": "user", "content": "hi"]], "stream": true,
                                              "stream_options": ["include_usage": true]])
        chat.stream = true
        let request = CompletionRequest(requestID: "r-1", chat: chat)
        var writer = ChunkWriter(request: request, created: 7, clock: ManualClock())
        let first = String(buffer: writer.delta(ChatDelta(content: "he"), model: "a"))
        #expect(first.hasPrefix("data: ") && first.hasSuffix("\n\n"))
        #expect(first.contains(#""role":"assistant""#) && first.contains(#""content":"he""#))
        let second = String(buffer: writer.delta(ChatDelta(content: "llo"), model: "a"))
        #expect(!second.contains("role"))
        let failure = String(buffer: writer.failure(RPCError(code: RPCErrorCode.streamInterrupted, message: "cut")))
        #expect(failure.hasPrefix("event: error\ndata: {\"error\""))
        #expect(!failure.contains("[DONE]"))
    }
}
