import FallbackClient
import FallbackRPC
import Testing

/// Connection reuse, reconnects, timeouts and concurrent callers.
@Suite struct FallbackClientConnectionTests {
    @Test func reconnectsAfterTheServerClosedTheConnection() throws {
        let server = try FakeServer { _, _ in .resultThenClose("pong") }
        defer { server.stop() }
        let client = FallbackClient(socketPath: server.path, timeout: .seconds(5))

        for round in 0..<3 {
            #expect(try client.ping())
            // Once the close has happened, the client must notice it before sending the next request.
            server.waitUntilClosed(round + 1)
        }
        #expect(server.connectionCount == 3)
    }

    @Test func neverResendsARequestTheDaemonMayHaveReceived() throws {
        // Request 0 is answered; request 1 is read by the server, which then closes without replying.
        let server = try FakeServer { _, index in index == 1 ? .close : .result("pong") }
        defer { server.stop() }
        let client = FallbackClient(socketPath: server.path, timeout: .seconds(5))

        #expect(try client.ping())
        let error = #expect(throws: FallbackClientError.self) { try client.ping() }
        guard case .io(let detail) = error else {
            Issue.record("expected .io, got \(String(describing: error))")
            return
        }
        #expect(detail.contains("not resent"))
        #expect(server.requests.count == 2, "the dropped request reached the server once and was not sent again")
        // The next call opens a fresh connection.
        #expect(try client.ping())
        #expect(server.connectionCount == 2)
    }

    @Test func freshConnectionClosedBeforeReplyIsAnIOError() throws {
        let server = try FakeServer { _, _ in .close }
        defer { server.stop() }
        let error = #expect(throws: FallbackClientError.self) {
            try FallbackClient(socketPath: server.path, timeout: .seconds(5)).ping()
        }
        guard case .io = error else {
            Issue.record("expected .io, got \(String(describing: error))")
            return
        }
        #expect(server.requests.count == 1)  // not retried: the connection was new
    }

    @Test(.timeLimit(.minutes(1)))
    func timesOutOnAServerThatNeverAnswers() throws {
        let server = try FakeServer { _, index in index == 0 ? .silent : .result("pong") }
        defer { server.stop() }
        let client = FallbackClient(socketPath: server.path, timeout: .milliseconds(300))

        let start = ContinuousClock.now
        let error = #expect(throws: FallbackClientError.self) { try client.ping() }
        let elapsed = start.duration(to: .now)
        guard case .timeout = error else {
            Issue.record("expected .timeout, got \(String(describing: error))")
            return
        }
        #expect(elapsed >= .milliseconds(290))
        #expect(elapsed < .seconds(15), "the server stays silent forever: only the client timeout ends the call")

        // The timed-out connection was dropped; the next call opens a new one.
        #expect(try client.ping())
        #expect(server.connectionCount == 2)
    }

    @Test func skipsRepliesForOtherIDs() throws {
        let server = try FakeServer { request, _ in
            let id = request["id"]?.intValue ?? 0
            return .lines([
                #"{"jsonrpc":"2.0","id":\#(id + 1000),"result":"stale"}"#,
                #"{"jsonrpc":"2.0","id":\#(id),"result":"pong"}"#,
            ])
        }
        defer { server.stop() }
        #expect(try FallbackClient(socketPath: server.path, timeout: .seconds(5)).ping())
    }

    @Test func concurrentCallersEachGetTheirOwnReply() async throws {
        let server = try FakeServer { request, _ in .result(request["params"]?["n"] ?? .null) }
        defer { server.stop() }
        let client = FallbackClient(socketPath: server.path, timeout: .seconds(5))

        let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
            for task in 0..<8 {
                group.addTask {
                    var wrong = 0
                    for round in 0..<25 {
                        let n = task * 100 + round
                        if try client.call("echo", params: ["n": .int(n)]).intValue != n { wrong += 1 }
                    }
                    return wrong
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(mismatches == 0)
        #expect(server.requests.count == 200)
        #expect(server.connectionCount == 1)
    }

    @Test func closeDropsTheConnection() throws {
        let server = try FakeServer { _, _ in .result("pong") }
        defer { server.stop() }
        let client = FallbackClient(socketPath: server.path, timeout: .seconds(5))

        #expect(try client.ping())
        client.close()
        #expect(try client.ping())
        #expect(server.connectionCount == 2)
    }
}
