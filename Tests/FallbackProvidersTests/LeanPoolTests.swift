import FallbackCore
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

@testable import FallbackProviders

/// fallbackd's own HTTP/1.1 client, which carries every plain-HTTP provider: keep-alive reuse,
/// a server's `connection: close`, and a full pool as a local limit.
@Suite struct LeanPoolTests {
    private func withServer(_ mode: LoopbackServer.Mode, _ body: (HTTPTransport, LoopbackServer) async throws -> Void) async throws {
        try await LoopbackServer.withTransport(mode, body)
    }

    private func post(
        _ transport: HTTPTransport, _ url: String, deadlineMs: Int64 = 10_000, connectTimeoutMs: Int64 = 5_000, maxConnections: Int = 0
    ) async -> Result<HTTPReply, ProviderFailure> {
        let clock = SystemClock()
        return await transport.post(
            url: url, headers: HTTPHeaders([("content-type", "application/json")]), body: ByteBuffer(string: "{}"),
            deadline: clock.now().adding(millis: deadlineMs), clock: clock, connectTimeoutMs: connectTimeoutMs,
            maxConnections: maxConnections)
    }

    @Test func plainHTTPURLsGoToTheLeanClientAndHTTPSDoesNot() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let transport = HTTPTransport(group: group)
        let plain = try #require(transport.parsedURL("http://127.0.0.1:8080/v1/chat/completions?x=1"))
        #expect(plain.lean?.endpoint == LeanEndpoint(host: "127.0.0.1", port: 8080))
        #expect(plain.lean?.hostHeader == "127.0.0.1:8080")
        #expect(plain.lean?.uri == "/v1/chat/completions?x=1")
        #expect(transport.parsedURL("http://localhost/v1")?.lean?.hostHeader == "localhost")
        #expect(transport.parsedURL("https://api.openai.com/v1/chat/completions")?.lean == nil)
    }

    @Test func keepAliveCarriesSequentialCallsOnOneConnection() async throws {
        try await withServer(.respond(status: 200, body: #"{"ok":true}"#)) { transport, server in
            for _ in 0..<5 {
                let reply = try await post(transport, server.baseURL + "/v1/chat/completions").get()
                #expect(reply.status == 200 && reply.bodyText == #"{"ok":true}"#)
            }
            #expect(server.connections == 1)
        }
    }

    @Test func aServerThatClosesGetsAFreshConnectionEachCall() async throws {
        try await withServer(.respondAndClose(status: 200, body: "{}")) { transport, server in
            for _ in 0..<3 {
                let reply = try await post(transport, server.baseURL + "/x").get()
                #expect(reply.status == 200)
            }
            #expect(server.connections == 3)
        }
    }

    @Test func aFullPoolIsLocalCapacityAfterTheConnectTimeout() async throws {
        try await withServer(.stallBeforeHeaders) { transport, server in
            let holder = Task { await post(transport, server.baseURL + "/x", deadlineMs: 20_000, maxConnections: 1) }
            // The barrier: the first call holds the only connection.
            await server.connected(1)
            let second = await post(transport, server.baseURL + "/x", connectTimeoutMs: 100, maxConnections: 1)
            #expect(second.failure?.type == .localCapacity, "\(second)")
            #expect(second.failure?.message.contains("max_connections") == true)
            #expect(server.connections == 1, "the cap held")
            holder.cancel()
            #expect(await holder.value.failure?.type == .cancelled)
        }
    }
}
