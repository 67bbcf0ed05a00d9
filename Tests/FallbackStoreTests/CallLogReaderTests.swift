import Testing

@testable import FallbackStore

@Suite("CallLogReader")
struct CallLogReaderTests {
    /// Inserts seed-style rows by hand: (model, success, latency, ts_ms).
    private func insert(_ rows: [(String, Bool, Int64, Int64)], into db: SQLiteConnection) throws {
        let statement = try db.prepare("INSERT INTO model_calls (model_name, success, latency_ms, ts_ms) VALUES (?, ?, ?, ?)")
        for (model, success, latency, ts) in rows {
            statement.reset()
            try statement.bind(model, at: 1)
            try statement.bind(Int64(success ? 1 : 0), at: 2)
            try statement.bind(latency, at: 3)
            try statement.bind(ts, at: 4)
            try statement.step()
        }
    }

    @Test func modelHealthMatchesTheSeed() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let log = try CallLog(path: dir.path(), logger: LogCapture().logger)
        let db = try SQLiteConnection(path: dir.path())
        let now: Int64 = 1_767_225_600_000
        let minute: Int64 = 60_000
        var rows: [(String, Bool, Int64, Int64)] = []
        // gpt-4o inside 10 minutes: 3 of 4 succeed -> 0.75, degraded; latencies 100, 200, 301, 400 -> 250.25 -> 250
        rows += [("gpt-4o", true, 100, now - 1), ("gpt-4o", true, 200, now - 5 * minute),
                 ("gpt-4o", true, 301, now - 9 * minute), ("gpt-4o", false, 400, now - 10 * minute + 1)]
        // exactly on the boundary and older: outside (the bound is exclusive, as in the seed)
        rows += [("gpt-4o", false, 9_999, now - 10 * minute), ("gpt-4o", false, 9_999, now - 60 * minute)]
        // claude: 5 of 6 -> 0.833, healthy; latencies average 10.5 -> 10 (half to even, like Python's round)
        rows += (0..<6).map { ("claude", $0 != 0, $0 < 3 ? 10 : 11, now - Int64($0) * 1_000) }
        // haiku: 4 of 5 -> exactly 0.8, not degraded
        rows += (0..<5).map { ("haiku", $0 != 4, 50, now - 2 * minute) }
        try insert(rows, into: db)
        // a seed-style row without ts_ms never counts
        try db.exec("INSERT INTO model_calls (timestamp, model_name, success, latency_ms) VALUES ('2026-01-01T00:00:00', 'seed', 1, 5)")

        let reader = try CallLogReader(path: dir.path())
        let health = try reader.modelHealth(windowMinutes: 10, nowMillis: now)
        #expect(Set(health.keys) == ["gpt-4o", "claude", "haiku"])
        let gpt = try #require(health["gpt-4o"])
        #expect(gpt.modelName == "gpt-4o")
        #expect(gpt.totalCalls == 4 && gpt.successes == 3 && gpt.successRate == 0.75 && gpt.degraded)
        #expect(gpt.avgLatencyMs == 250)
        let claude = try #require(health["claude"])
        #expect(claude.totalCalls == 6 && claude.successes == 5 && claude.successRate == 0.833 && !claude.degraded)
        #expect(claude.avgLatencyMs == 10)
        let haiku = try #require(health["haiku"])
        #expect(haiku.totalCalls == 5 && haiku.successRate == 0.8 && !haiku.degraded && haiku.avgLatencyMs == 50)

        // a 61-minute window takes in both old failures: 3 of 6 -> 0.5; (100+200+301+400+2*9999)/6 = 3499.83 -> 3500
        let wide = try #require(try reader.modelHealth(windowMinutes: 61, nowMillis: now)["gpt-4o"])
        #expect(wide.totalCalls == 6 && wide.successes == 3 && wide.successRate == 0.5 && wide.avgLatencyMs == 3_500)
        #expect(try reader.modelHealth(windowMinutes: 10, nowMillis: now + 24 * 60 * minute).isEmpty)
        await log.close()
    }

    @Test func recentRowsAndCount() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let log = try CallLog(path: dir.path(), logger: LogCapture().logger)
        let reader = try CallLogReader(path: dir.path())
        #expect(try reader.count() == 0 && reader.recent(limit: 5).isEmpty)
        for i in 0..<10 { log.record(attempt(i)) }
        _ = await log.flush()
        #expect(try reader.count() == 10)
        #expect(try reader.recent(limit: 3).map(\.requestID) == ["r-9", "r-8", "r-7"])
        #expect(try reader.rows(requestID: "r-4").map(\.latencyMs) == [14])
        #expect(try reader.rows(requestID: "nope").isEmpty)
        reader.close()
        #expect(throws: StoreError.closed) { try reader.count() }
        await log.close()
    }
}
