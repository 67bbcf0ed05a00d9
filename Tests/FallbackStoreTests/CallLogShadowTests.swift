import FallbackCore
import Testing

@testable import FallbackStore

@Suite("CallLog shadow results")
struct CallLogShadowTests {
    static func result(_ n: Int) -> ShadowResult {
        ShadowResult(
            requestID: "r-\(n)", task: "summarize", startedAtMillis: 1_795_392_000_000 + Int64(n),
            primary: side("big", latency: 120, cost: 0.5, tokens: (11, 22), length: 300),
            shadow: side("mid", success: n.isMultiple(of: 2), latency: 80, cost: 0.125, tokens: (11, 19), length: 280),
            similarity: n.isMultiple(of: 2) ? 0.625 : nil)
    }

    /// `request_id` of every `shadow_results` row in id order.
    static func shadowIDs(_ path: String) throws -> [String] {
        let db = try SQLiteConnection(path: path, readOnly: true)
        let statement = try db.prepare("SELECT request_id FROM shadow_results ORDER BY id")
        var ids: [String] = []
        while try statement.step() { ids.append(statement.text(at: 0) ?? "") }
        return ids
    }

    @Test func persistsEveryColumnInTheAttemptsTransaction() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let log = try CallLog(path: dir.path(), logger: LogCapture().logger)
        log.record(attempt(1))
        log.recordShadow(Self.result(1))
        log.recordShadow(Self.result(2))
        #expect(log.stats.pendingCount == 1 && log.stats.pendingShadowCount == 2)
        let before = await log.commitCount
        let report = await log.flush()
        #expect(report.written == 1 && report.writtenShadows == 2 && report.pending == 0 && report.pendingShadows == 0)
        #expect(await log.commitCount == before + 1, "attempts and shadow results share one transaction")
        #expect(log.stats == CallLogStats(writtenCount: 1, writtenShadowCount: 2))

        let db = try SQLiteConnection(path: dir.path())
        let row = try db.prepare("SELECT \(CallLogSchema.shadowColumns.dropFirst().joined(separator: ", ")) FROM shadow_results ORDER BY id")
        try #require(try row.step())
        #expect(row.int64(at: 0) == 1_795_392_000_001 && row.text(at: 1) == "r-1" && row.text(at: 2) == "summarize")
        // primary: model, success, error, latency, input, output, cost, length
        #expect(row.text(at: 3) == "big" && row.int64(at: 4) == 1 && row.text(at: 5) == nil && row.int64(at: 6) == 120)
        #expect(row.int64(at: 7) == 11 && row.int64(at: 8) == 22 && row.double(at: 9) == 0.5 && row.int64(at: 10) == 300)
        // shadow (failed for odd n: error type kept, output length 0), similarity NULL
        #expect(row.text(at: 11) == "mid" && row.int64(at: 12) == 0 && row.text(at: 13) == "server_error" && row.int64(at: 14) == 80)
        #expect(row.int64(at: 15) == 11 && row.int64(at: 16) == 19 && row.double(at: 17) == 0.125 && row.int64(at: 18) == 0)
        #expect(row.isNull(at: 19))
        try #require(try row.step())
        #expect(row.int64(at: 12) == 1 && row.text(at: 13) == nil && row.int64(at: 18) == 280 && row.double(at: 19) == 0.625)
        #expect(try row.step() == false)
        await log.close()
    }

    @Test func failedFlushKeepsShadowResultsInOrder() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let log = try CallLog(path: dir.path(), logger: LogCapture().logger, busyTimeoutMs: 10)
        log.record(attempt(0))
        for n in 0..<3 { log.recordShadow(Self.result(n)) }
        let locker = try SQLiteConnection(path: dir.path())
        try locker.exec("BEGIN EXCLUSIVE")
        let failed = await log.flush()
        guard case .busy = failed.error else {
            Issue.record("expected .busy, got \(String(describing: failed.error))")
            return
        }
        #expect(failed.writtenShadows == 0 && failed.pendingShadows == 3 && failed.pending == 1)
        for n in 3..<5 { log.recordShadow(Self.result(n)) }
        #expect(log.stats.pendingShadowCount == 5 && log.stats.failedFlushes == 1)
        try locker.exec("COMMIT")
        let retried = await log.flush()
        #expect(retried.succeeded && retried.writtenShadows == 5 && retried.written == 1 && retried.pendingShadows == 0)
        #expect(try Self.shadowIDs(dir.path()) == (0..<5).map { "r-\($0)" })
        await log.close()
    }

    @Test func aFailedShadowInsertRollsBackTheAttemptsToo() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let log = try CallLog(path: dir.path(), logger: LogCapture().logger)
        let other = try SQLiteConnection(path: dir.path())
        try other.exec("DROP TABLE shadow_results")
        for i in 0..<2 { log.record(attempt(i)) }
        log.recordShadow(Self.result(7))
        let failed = await log.flush()
        guard case .step(_, let message) = failed.error else {
            Issue.record("expected .step, got \(String(describing: failed.error))")
            return
        }
        #expect(message.contains("shadow_results"))
        #expect(failed.pending == 2 && failed.pendingShadows == 1)
        #expect(try CallLogReader(path: dir.path()).count() == 0, "one transaction: the attempts were rolled back")
        try other.exec(CallLogSchema.createShadowResults)
        let retried = await log.flush()
        #expect(retried.written == 2 && retried.writtenShadows == 1)
        #expect(try requestIDsInOrder(dir.path()) == ["r-0", "r-1"])
        #expect(try Self.shadowIDs(dir.path()) == ["r-7"])
        await log.close()
    }

    @Test func capDropsOldestShadowResults() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let log = try CallLog(path: dir.path(), logger: LogCapture().logger, maxPending: 2)
        for n in 0..<5 { log.recordShadow(Self.result(n)) }
        #expect(log.stats.pendingShadowCount == 2 && log.stats.droppedRows == 3)
        #expect(await log.flush().writtenShadows == 2)
        #expect(try Self.shadowIDs(dir.path()) == ["r-3", "r-4"])
        await log.close()
    }
}
