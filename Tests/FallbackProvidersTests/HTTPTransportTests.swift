import FallbackCore
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

@testable import FallbackProviders

@Suite struct HTTPTransportTests {
    /// Runs `body` with a one-thread group, a transport on it, and a loopback server in `mode`.
    private func withServer(_ mode: LoopbackServer.Mode, _ body: (HTTPTransport, LoopbackServer) async throws -> Void) async throws {
        try await LoopbackServer.withTransport(mode, body)
    }

    private func post(_ transport: HTTPTransport, _ url: String, deadlineMs: Int64) async -> Result<HTTPReply, ProviderFailure> {
        let clock = SystemClock()
        return await transport.post(
            url: url, headers: HTTPHeaders([("content-type", "application/json")]), body: ByteBuffer(string: "{}"),
            deadline: clock.now().adding(millis: deadlineMs), clock: clock)
    }

    @Test func deadlineCutsAStalledBody() async throws {
        try await withServer(.stallAfterHeaders) { transport, server in
            let start = ContinuousClock.now
            let outcome = await post(transport, server.baseURL + "/v1/chat/completions", deadlineMs: 300)
            let elapsed = ContinuousClock.now - start
            #expect(outcome.failure?.type == .timeout, "\(outcome)")
            #expect(elapsed >= .milliseconds(250) && elapsed < .seconds(3), "\(elapsed)")
        }
    }

    @Test func deadlineCutsStalledHeaders() async throws {
        try await withServer(.stallBeforeHeaders) { transport, server in
            let start = ContinuousClock.now
            let outcome = await post(transport, server.baseURL + "/x", deadlineMs: 300)
            #expect(outcome.failure?.type == .timeout, "\(outcome)")
            #expect(ContinuousClock.now - start < .seconds(3))
        }
    }

    @Test func cancellingTheTaskCancelsTheRequest() async throws {
        try await withServer(.stallAfterHeaders) { transport, server in
            let start = ContinuousClock.now
            let task = Task { await post(transport, server.baseURL + "/x", deadlineMs: 20_000) }
            try await Task.sleep(for: .milliseconds(100))
            task.cancel()
            #expect(await task.value.failure?.type == .cancelled)
            #expect(ContinuousClock.now - start < .seconds(3))
        }
    }

    @Test func openAIAdapterEndToEnd() async throws {
        let body = """
            {"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,\
            "message":{"role":"assistant","content":"pong"},"finish_reason":"stop"}],\
            "usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}
            """
        try await withServer(.respond(status: 200, body: body)) { transport, server in
            let settings = ProviderSettings(name: "local", kind: .openaiCompatible, baseURL: server.baseURL + "/v1")
            let registry = ProviderRegistry.make(settings: [settings], transport: transport, clock: SystemClock())
            let request = testRequest(
                [ChatMessage(role: .user, content: "ping")], model: testModel(provider: "local"),
                deadline: SystemClock().now().adding(millis: 5_000))
            for _ in 0..<3 {  // keep-alive reuse
                let response = try await registry.invoke(request).get()
                #expect(response.content == "pong")
                #expect(response.usage == Usage(inputTokens: 3, outputTokens: 1))
            }
        }
    }

    @Test func anthropicErrorEndToEnd() async throws {
        let body = #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
        try await withServer(.respond(status: 529, body: body)) { transport, server in
            let settings = ProviderSettings(name: "a", kind: .anthropic, baseURL: server.baseURL + "/v1", apiKey: secretKey)
            let adapter = AnthropicAdapter(settings: settings, transport: transport, clock: SystemClock())
            let failure = await adapter.complete(
                testRequest([ChatMessage(role: .user, content: "hi")], deadline: SystemClock().now().adding(millis: 5_000))
            ).failure
            #expect(failure?.type == .overloaded)
            #expect(failure?.httpStatus == 529)
        }
    }

    @Test func connectionRefusedIsConnection() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let transport = HTTPTransport(group: group)
        // Bind, note the port, close: nobody listens there now.
        let server = try await LoopbackServer.start(group: group, mode: .stallBeforeHeaders)
        let url = server.baseURL + "/x"
        await server.stop()
        let start = ContinuousClock.now
        let outcome = await post(transport, url, deadlineMs: 2_000)
        #expect(outcome.failure?.type == .connection, "\(outcome)")
        #expect(ContinuousClock.now - start < .seconds(1))
        await transport.shutdown()
        try await group.shutdownGracefully()
    }

    @Test func pastDeadlineFailsWithoutSending() async throws {
        try await withServer(.stallBeforeHeaders) { transport, server in
            #expect(await post(transport, server.baseURL, deadlineMs: -1).failure?.type == .timeout)
        }
    }
}
