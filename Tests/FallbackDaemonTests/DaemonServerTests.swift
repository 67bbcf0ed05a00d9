import FallbackDaemon
import FallbackRPC
import FallbackStore
import Foundation
import Testing

@Suite("daemon over a real Unix socket")
struct DaemonServerTests {
    @Test("1,000 requests in flight across 100 connections are each answered exactly once")
    func thousandInFlight() async throws {
        let harness = try await DaemonHarness(configText: DaemonHarness.config(slowMs: 1500))
        defer { harness.cleanUp() }
        let sockets = try (0..<100).map { _ in try harness.connect(timeoutMs: 20_000) }
        for (connection, socket) in sockets.enumerated() {
            var batch = ""
            for slot in 0..<10 {
                batch += DaemonHarness.completeRequest(id: connection * 10 + slot, task: "slow").serialized + "\n"
            }
            try socket.send(batch)
        }
        // All 1,000 must be admitted and running at once before any finishes.
        let observer = try harness.connect()
        var peak = 0
        for attempt in 0..<200 where peak < 1000 {
            peak = max(peak, try await observer.call("status", id: attempt)["result"]?["in_flight"]?.intValue ?? 0)
            if peak < 1000 { try await Task.sleep(for: .milliseconds(5)) }
        }
        #expect(peak == 1000)
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
        let harness = try await DaemonHarness()
        defer { harness.cleanUp() }
        let socket = try harness.connect()
        try socket.send(
            DaemonHarness.completeRequest(id: 1, task: "slow").serialized + "\n"
                + #"{"jsonrpc":"2.0","id":2,"method":"ping"}"# + "\n"
        )
        #expect(try await socket.readReply()["id"]?.intValue == 2)
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

    @Test("a client that vanishes mid-request does not hurt the daemon, and its attempt is logged")
    func clientVanishes() async throws {
        let harness = try await DaemonHarness(configText: DaemonHarness.config(slowMs: 200))
        defer { harness.cleanUp() }
        do {
            let socket = try harness.connect()
            try socket.request(DaemonHarness.completeRequest(id: 1, task: "slow", content: "vanishing client"))
        }
        let other = try harness.connect()
        #expect(try await other.call("ping")["result"]?.stringValue == "pong")
        // The abandoned request still completes inside the daemon; wait for it to leave the gate.
        for attempt in 0..<200 {
            if try await other.call("status", id: attempt)["result"]?["in_flight"]?.intValue == 0 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(await harness.stop() == nil)
        let reader = try CallLogReader(path: harness.databasePath)
        #expect(try reader.recent(limit: 10).contains { $0.modelName == "slow" && $0.success })
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
        let harness = try await DaemonHarness(configText: DaemonHarness.config(slowMs: 400))
        defer { harness.cleanUp() }
        let socket = try harness.connect()
        try socket.request(DaemonHarness.completeRequest(id: 1, task: "slow"))
        var observed = 0
        for attempt in 0..<100 where observed == 0 {
            observed = try await harness.connect().call("status", id: attempt)["result"]?["in_flight"]?.intValue ?? 0
        }
        #expect(observed == 1)
        let stopping = Task { await harness.stop() }
        var refused: JSON?
        for attempt in 0..<200 {
            try socket.request(DaemonHarness.completeRequest(id: 100 + attempt))
            let reply = try await socket.readReply()
            if reply["id"]?.intValue == 1 {
                #expect(reply["result"]?["model_used"]?.stringValue == "slow")
                continue
            }
            if reply["error"]?["code"]?.intValue == -32000 {
                refused = reply
                break
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(refused != nil, "requests during the drain must get -32000")
        #expect(await stopping.value == nil)
        #expect(!FileManager.default.fileExists(atPath: harness.socketPath))
    }
}
