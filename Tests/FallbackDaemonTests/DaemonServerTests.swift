import FallbackDaemon
import FallbackRPC
import FallbackStore
import Foundation
import Testing

@Suite("daemon over a real Unix socket")
struct DaemonServerTests {
    /// Polls `status` until `in_flight` satisfies `condition`; generous bound, never a timing assertion.
    private func waitForInFlight(_ harness: DaemonHarness, _ condition: (Int) -> Bool) async throws -> Int {
        let observer = try harness.connect()
        var last = -1
        for attempt in 0..<6_000 {
            last = try await observer.call("status", id: attempt)["result"]?["in_flight"]?.intValue ?? -1
            if condition(last) { return last }
            try await Task.sleep(for: .milliseconds(10))
        }
        return last
    }

    @Test("1,000 requests in flight across 100 connections are each answered exactly once")
    func thousandInFlight() async throws {
        // Slow calls last until the test releases them: all 1,000 are provably in flight at once.
        let clock = HeldClock()
        let harness = try await DaemonHarness(configText: DaemonHarness.config(slowMs: 5_000), clock: clock)
        defer { harness.cleanUp() }
        let sockets = try (0..<100).map { _ in try harness.connect(timeoutMs: 120_000) }
        for (connection, socket) in sockets.enumerated() {
            var batch = ""
            for slot in 0..<10 {
                batch += DaemonHarness.completeRequest(id: connection * 10 + slot, task: "slow").serialized + "\n"
            }
            try socket.send(batch)
        }
        #expect(try await waitForInFlight(harness) { $0 == 1000 } == 1000)
        clock.release()
        var seen: Set<Int> = []
        for (connection, socket) in sockets.enumerated() {
            for _ in 0..<10 {
                let reply = try await socket.readReply()
                let id = try #require(reply["id"]?.intValue)
                #expect(id / 10 == connection, "a reply crossed connections")
                #expect(reply["result"]?["model_used"]?.stringValue == "slow")
                #expect(seen.insert(id).inserted, "id \(id) answered twice")
            }
        }
        #expect(seen.count == 1000)
        #expect(await harness.stop() == nil)
    }

    @Test("a fast reply overtakes a slow one on the same connection")
    func pipelinedRepliesOvertake() async throws {
        let clock = HeldClock()
        let harness = try await DaemonHarness(configText: DaemonHarness.config(slowMs: 5_000), clock: clock)
        defer { harness.cleanUp() }
        let socket = try harness.connect()
        try socket.send(
            DaemonHarness.completeRequest(id: 1, task: "slow").serialized + "\n"
                + #"{"jsonrpc":"2.0","id":2,"method":"ping"}"# + "\n"
        )
        #expect(try await socket.readReply()["id"]?.intValue == 2)
        clock.release()
        let slow = try await socket.readReply()
        #expect(slow["id"]?.intValue == 1)
        #expect(slow["result"]?["model_used"]?.stringValue == "slow")
        await harness.stop()
    }

    @Test("the default chain falls back past a failing model and the call log keeps both attempts")
    func fallbackAndCallLog() async throws {
        let harness = try await DaemonHarness()
        defer { harness.cleanUp() }
        let socket = try harness.connect()
        try socket.request(DaemonHarness.completeRequest(id: 7, task: "no-such-task"))
        let result = try #require(try await socket.readReply()["result"])
        #expect(result["model_used"]?.stringValue == "fast")
        #expect(result["chain"]?.stringValue == "default")
        #expect(result["task"]?.stringValue == "no-such-task")
        #expect(result["fallback_count"]?.intValue == 1)
        #expect(result["used_fallback"]?.boolValue == true)
        #expect(result["attempts"]?[0]?["error_type"]?.stringValue == "server_error")
        let requestID = try #require(result["request_id"]?.stringValue)
        #expect(await harness.stop() == nil)
        let reader = try CallLogReader(path: harness.databasePath)
        let rows = try reader.rows(requestID: requestID)
        // server_error is retryable: one retry on `broken`, then the fallback.
        #expect(rows.map(\.modelName) == ["broken", "broken", "fast"])
        #expect(rows.map(\.success) == [false, false, true])
        #expect(rows.map(\.attemptIndex) == [0, 1, 2])
        #expect(rows.first?.task == "no-such-task")
        reader.close()
    }

    @Test("an oversized line gets -32600 and a close; the daemon keeps serving")
    func oversizedLine() async throws {
        let harness = try await DaemonHarness(configText: DaemonHarness.config(maxLineBytes: 4096))
        defer { harness.cleanUp() }
        let socket = try harness.connect()
        try socket.send(String(repeating: "x", count: 5000))
        let reply = try await socket.readReply()
        #expect(reply["error"]?["code"]?.intValue == -32600)
        #expect(reply["id"]?.isNull == true)
        #expect(reply["error"]?["data"]?["max_line_bytes"]?.intValue == 4096)
        #expect(try await socket.readLine() == nil, "the connection must be closed")
        #expect(try await harness.connect().call("ping")["result"]?.stringValue == "pong")
        await harness.stop()
    }

    @Test("malformed JSON gets -32700 with id null and the connection stays open")
    func malformedLineKeepsConnection() async throws {
        let harness = try await DaemonHarness()
        defer { harness.cleanUp() }
        let socket = try harness.connect()
        try socket.send("{\"jsonrpc\": \"2.0\", \"method\": \r\n")
        let reply = try await socket.readReply()
        #expect(reply["error"]?["code"]?.intValue == -32700)
        #expect(reply["id"]?.isNull == true)
        #expect(try await socket.call("ping", id: 9)["result"]?.stringValue == "pong")
        await harness.stop()
    }

    @Test("a client that vanishes mid-request cancels it: the slot frees, the attempt is logged as cancelled")
    func clientVanishes() async throws {
        // The slow call would never end by itself: only the client leaving can end it.
        let clock = HeldClock()
        let harness = try await DaemonHarness(configText: DaemonHarness.config(slowMs: 5_000), clock: clock)
        defer { harness.cleanUp() }
        do {
            let socket = try harness.connect()
            try socket.request(DaemonHarness.completeRequest(id: 1, task: "slow", content: "vanishing client"))
            // The attempt is under way: the slow provider sleeps on the held clock.
            for _ in 0..<6_000 where clock.heldCount == 0 { try await Task.sleep(for: .milliseconds(10)) }
            #expect(clock.heldCount == 1)
        }
        #expect(try await waitForInFlight(harness) { $0 == 0 } == 0, "the request left the gate when its client left")
        let other = try harness.connect()
        #expect(try await other.call("ping")["result"]?.stringValue == "pong")
        #expect(await harness.stop() == nil)
        let reader = try CallLogReader(path: harness.databasePath)
        let slow = try reader.recent(limit: 10).filter { $0.modelName == "slow" }
        #expect(slow.count == 1)
        #expect(slow.first?.success == false)
        #expect(slow.first?.errorType == "cancelled")
        reader.close()
    }

    @Test("after a half-close the owed reply still arrives, then the daemon closes")
    func halfClose() async throws {
        let harness = try await DaemonHarness(configText: DaemonHarness.config(slowMs: 100))
        defer { harness.cleanUp() }
        let socket = try harness.connect()
        try socket.request(DaemonHarness.completeRequest(id: 3, task: "slow"))
        socket.shutdownWrite()
        #expect(try await socket.readReply()["result"]?["model_used"]?.stringValue == "slow")
        #expect(try await socket.readLine() == nil)
        await harness.stop()
    }

    @Test("shutdown lets in-flight requests finish, refuses new ones with -32000, removes the socket")
    func gracefulDrain() async throws {
        let clock = HeldClock()
        let harness = try await DaemonHarness(configText: DaemonHarness.config(slowMs: 5_000), clock: clock)
        defer { harness.cleanUp() }
        let socket = try harness.connect()
        try socket.request(DaemonHarness.completeRequest(id: 1, task: "slow"))
        #expect(try await waitForInFlight(harness) { $0 == 1 } == 1)
        let stopping = Task { await harness.stop() }
        var refused: JSON?
        for attempt in 0..<6_000 {
            try socket.request(DaemonHarness.completeRequest(id: 100 + attempt))
            let reply = try await socket.readReply()
            if reply["error"]?["code"]?.intValue == -32000 {
                refused = reply
                break
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(refused != nil, "requests during the drain must get -32000")
        // The slow request is still running inside the drain; it ends when released and is answered.
        clock.release()
        let slow = try await socket.readReply()
        #expect(slow["id"]?.intValue == 1)
        #expect(slow["result"]?["model_used"]?.stringValue == "slow")
        #expect(await stopping.value == nil)
        #expect(!FileManager.default.fileExists(atPath: harness.socketPath))
    }
}
