import FallbackCore
import Logging
import Testing

@testable import FallbackStore

@Suite("CallLog")
struct CallLogTests {
    @Test func roundTripsEveryColumnIncludingNulls() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let log = try CallLog(path: dir.path(), logger: LogCapture().logger)
        let metadata = #"{"user":"ünïcødé \"quoted\"","n":[1,2]}"#
        let ok = AttemptRecord(
            requestID: "r-abc", task: "complex_reasoning", chain: "complex_reasoning", model: "claude-3-5-sonnet",
            provider: "anthropic", attemptIndex: 1, startedAtMillis: 1_709_210_096_007, latencyMs: 777,
            success: true, errorType: nil, httpStatus: 200, usage: Usage(inputTokens: 12, outputTokens: 40),
            costUSD: 0.000636, metadataJSON: metadata)
        var served = ok
        served.fallbackCount = 1
        served.primaryCostUSD = 0.0005
        let failed = AttemptRecord(
            requestID: "r-abc", task: "complex_reasoning", chain: "explicit", model: "gpt-4o", provider: "openai",
            attemptIndex: 0, startedAtMillis: 1_709_210_095_000, latencyMs: 35, success: false,
            errorType: .rateLimited, httpStatus: nil, usage: .zero, costUSD: 0, metadataJSON: nil)
        log.record(served)
        log.record(failed)
        let report = await log.flush()
        #expect(report.succeeded && report.written == 2 && report.pending == 0)

        let rows = try CallLogReader(path: dir.path()).rows(requestID: "r-abc")
        try #require(rows.count == 2)
        let first = rows[0]  // attempt_index 0
        #expect(first.modelName == "gpt-4o" && first.provider == "openai" && first.chain == "explicit")
        #expect(first.success == false && first.errorType == "rate_limited" && first.errorKind == .rateLimited)
        #expect(first.httpStatus == nil && first.metadataJSON == nil)
        #expect(first.timestamp == "2024-02-29T12:34:55.000Z" && first.tsMillis == 1_709_210_095_000)
        #expect(first.inputTokens == 0 && first.outputTokens == 0 && first.costUSD == 0 && first.latencyMs == 35)
        let second = rows[1]
        #expect(second.timestamp == "2024-02-29T12:34:56.007Z" && second.tsMillis == 1_709_210_096_007)
        #expect(second.modelName == "claude-3-5-sonnet" && second.success && second.latencyMs == 777)
        #expect(second.errorType == nil && second.errorKind == nil)
        #expect(second.requestID == "r-abc" && second.task == "complex_reasoning" && second.chain == "complex_reasoning")
        #expect(second.provider == "anthropic" && second.attemptIndex == 1 && second.httpStatus == 200)
        #expect(second.inputTokens == 12 && second.outputTokens == 40 && second.costUSD == 0.000636)
        #expect(second.metadataJSON == metadata)
        // Columns of schema v3: only the serving attempt carries the fallback figures.
        #expect(first.served == false && first.fallbackCount == nil && first.primaryCostUSD == nil && first.shadow == false)
        #expect(second.served && second.fallbackCount == 1 && second.primaryCostUSD == 0.0005 && second.shadow == false)

        let db = try SQLiteConnection(path: dir.path())
        #expect(try db.scalarInt("SELECT COUNT(*) FROM model_calls WHERE error_type IS NULL AND metadata IS NOT NULL") == 1)
        #expect(try db.scalarInt("SELECT COUNT(*) FROM model_calls WHERE http_status IS NULL AND metadata IS NULL") == 1)
        #expect(try db.scalarText("SELECT typeof(ts_ms) || typeof(cost_usd) || typeof(success) FROM model_calls LIMIT 1") == "integerrealinteger")
        #expect(try db.scalarText("SELECT typeof(served) || typeof(fallback_count) || typeof(primary_cost_usd) || typeof(shadow) FROM model_calls WHERE success = 1") == "integerintegerrealinteger")
        await log.close()
    }

    @Test func oneFlushIsOneTransaction() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let log = try CallLog(path: dir.path(), logger: LogCapture().logger)
        for i in 0..<5_000 { log.record(attempt(i)) }
        #expect(log.stats.pendingCount == 5_000)
        let before = await log.commitCount
        let report = await log.flush()
        #expect(report.written == 5_000 && report.pending == 0 && report.error == nil)
        #expect(await log.commitCount == before + 1)
        #expect(try CallLogReader(path: dir.path()).count() == 5_000)
        #expect(try requestIDsInOrder(dir.path()) == (0..<5_000).map { "r-\($0)" })
        let empty = await log.flush()
        #expect(empty.written == 0 && empty.succeeded)
        #expect(await log.commitCount == before + 1, "an empty flush opens no transaction")
        #expect(log.stats == CallLogStats(pendingCount: 0, writtenCount: 5_000))
        await log.close()
    }

    @Test func failedFlushKeepsRowsInOrderAndRetries() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let capture = LogCapture()
        let log = try CallLog(path: dir.path(), logger: capture.logger, busyTimeoutMs: 10)
        for i in 0..<3 { log.record(attempt(i)) }

        let locker = try SQLiteConnection(path: dir.path())
        try locker.exec("BEGIN EXCLUSIVE")
        let failed = await log.flush()
        guard case .busy = failed.error else {
            Issue.record("expected .busy, got \(String(describing: failed.error))")
            return
        }
        #expect(failed.written == 0 && failed.pending == 3)
        for i in 3..<5 { log.record(attempt(i)) }  // arrive while the database is locked
        let stats = log.stats
        #expect(stats.pendingCount == 5 && stats.failedFlushes == 1 && stats.writtenCount == 0)
        #expect(stats.lastError == failed.error)

        let errors = capture.at(.error)
        try #require(errors.count == 1)
        let meta = errors[0].metadata ?? [:]
        #expect(meta["store.path"] == .string(dir.path()))
        #expect(meta["store.rows"] == "3")
        #expect(meta["store.error"]?.description.contains("busy") == true)

        try locker.exec("COMMIT")
        let retried = await log.flush()
        #expect(retried.succeeded && retried.written == 5 && retried.pending == 0)
        #expect(try requestIDsInOrder(dir.path()) == ["r-0", "r-1", "r-2", "r-3", "r-4"])
        #expect(log.stats.writtenCount == 5 && log.stats.failedFlushes == 1)
        await log.close()
    }

    @Test func nonBusyFailureAlsoKeepsRows() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let log = try CallLog(path: dir.path(), logger: LogCapture().logger)
        log.record(attempt(0))
        _ = await log.flush()
        let other = try SQLiteConnection(path: dir.path())
        try other.exec("DROP TABLE model_calls")
        for i in 1...3 { log.record(attempt(i)) }
        let failed = await log.flush()
        guard case .step(_, let message) = failed.error else {
            Issue.record("expected .step, got \(String(describing: failed.error))")
            return
        }
        #expect(message.contains("model_calls"))
        #expect(failed.pending == 3)
        try other.exec(
            CallLogSchema.createCallLog + CallLogSchema.addCostColumns + CallLogSchema.addTokenDetailColumns + CallLogSchema.addAppColumn)
        let retried = await log.flush()
        #expect(retried.written == 3)
        #expect(try requestIDsInOrder(dir.path()) == ["r-1", "r-2", "r-3"])
        await log.close()
    }

    @Test func capDropsOldestAndCounts() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let capture = LogCapture()
        let log = try CallLog(path: dir.path(), logger: capture.logger, maxPending: 3)
        for i in 0..<5 { log.record(attempt(i)) }
        #expect(log.stats.pendingCount == 3 && log.stats.droppedRows == 2)
        let report = await log.flush()
        #expect(report.written == 3)
        #expect(try requestIDsInOrder(dir.path()) == ["r-2", "r-3", "r-4"])
        let drops = capture.at(.error).filter { $0.metadata?["store.dropped"] != nil }
        try #require(drops.count == 1)
        #expect(drops[0].metadata?["store.dropped"] == "2")
        await log.close()
    }

    @Test func capAppliesToRowsKeptByAFailedFlush() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let log = try CallLog(path: dir.path(), logger: LogCapture().logger, maxPending: 4, busyTimeoutMs: 10)
        let locker = try SQLiteConnection(path: dir.path())
        for i in 0..<3 { log.record(attempt(i)) }
        try locker.exec("BEGIN EXCLUSIVE")
        #expect(await log.flush().succeeded == false)
        for i in 3..<6 { log.record(attempt(i)) }
        #expect(log.stats.pendingCount == 4 && log.stats.droppedRows == 2)
        try locker.exec("COMMIT")
        #expect(await log.flush().written == 4)
        #expect(try requestIDsInOrder(dir.path()) == ["r-2", "r-3", "r-4", "r-5"])
        await log.close()
    }

    @Test func concurrentRecordersLoseNothing() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let log = try CallLog(path: dir.path(), logger: LogCapture().logger)
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for i in 0..<2_000 { log.record(attempt(worker * 10_000 + i)) }
                }
            }
            group.addTask {
                for _ in 0..<20 { _ = await log.flush() }
            }
        }
        _ = await log.flush()
        #expect(log.stats.writtenCount == 16_000 && log.stats.pendingCount == 0)
        #expect(try CallLogReader(path: dir.path()).count() == 16_000)
        await log.close()
    }

    @Test func flushAfterCloseKeepsRows() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let log = try CallLog(path: dir.path(), logger: LogCapture().logger)
        await log.close()
        await log.close()
        log.record(attempt(1))
        let report = await log.flush()
        #expect(report.error == .closed && report.pending == 1)
    }
}
