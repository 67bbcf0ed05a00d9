import Testing

@testable import FallbackStore

/// Query plans of every report statement, and exact figures on a generated year of calls.
@Suite("Report plans")
struct ReportPlanTests {
    static let day: Int64 = 86_400_000
    /// Every statement the reporters run.
    static let reportQueries = CostReporter.queries + [ShadowReporter.pairsSQL]

    /// Every plan reads `model_calls` / `shadow_results` through an index seek: no `SCAN` of either table,
    /// not even a full scan of an index (`SCAN model_calls USING INDEX ...`).
    static func expectIndexedPlans(on db: SQLiteConnection, _ label: String) throws {
        for sql in reportQueries {
            let details = try planDetails(sql, on: db)
            let scans = details.filter { $0.contains("SCAN model_calls") || $0.contains("SCAN shadow_results") }
            #expect(scans.isEmpty, "\(label): full scan in \(details) for \(sql)")
            let seeks = details.filter {
                ($0.hasPrefix("SEARCH model_calls USING") || $0.hasPrefix("SEARCH shadow_results USING")) && $0.contains("INDEX")
            }
            #expect(!seeks.isEmpty, "\(label): no index search in \(details) for \(sql)")
        }
        // A SEARCH can still walk a whole index (`task>?` from `task IS NOT NULL`): pin each plan down.
        #expect(try planDetails(CostReporter.pairSQL, on: db) == [
            "SEARCH model_calls USING COVERING INDEX model_calls_report (task=? AND model_name=? AND ts_ms>? AND ts_ms<?)",
        ], "\(label)")
        #expect(try planDetails(ShadowReporter.pairsSQL, on: db) == [
            "SEARCH shadow_results USING INDEX shadow_results_ts (ts_ms>? AND ts_ms<?)", "USE TEMP B-TREE FOR GROUP BY",
        ], "\(label)")
        // Key hops: each step is a MIN() seek (`task>?` / `model_name>?` after equality), not a range walk.
        let taskHops = try planDetails(CostReporter.taskKeysSQL, on: db).filter { $0.hasPrefix("SEARCH model_calls") }
        #expect(taskHops.count == 2 && taskHops.allSatisfy { $0.contains("COVERING INDEX") }, "\(label): \(taskHops)")
        let modelHops = try planDetails(CostReporter.modelKeysSQL, on: db).filter { $0.hasPrefix("SEARCH model_calls") }
        #expect(modelHops == [
            "SEARCH model_calls USING COVERING INDEX model_calls_report (task=?)",
            "SEARCH model_calls USING COVERING INDEX model_calls_report (task=? AND model_name>?)",
        ], "\(label)")
    }

    @Test func everyReportQuerySearchesAnIndex() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let log = try CallLog(path: dir.path(), logger: LogCapture().logger)
        let db = try SQLiteConnection(path: dir.path())
        try Self.expectIndexedPlans(on: db, "empty file")
        await log.close()
    }

    /// A generated year of calls: the SQL figures match what the generator counted, and every report
    /// statement still plans as an index search on real data (the structural reason reports stay fast;
    /// wall-clock timings belong in `make bench`, not in a test).
    @Test func aGeneratedYearReportsExactFiguresThroughIndexes() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.path()
        try await CallLog(path: path, logger: LogCapture().logger).close()
        let end: Int64 = 1_795_564_800_000  // 2026-11-25T00:00Z, a Wednesday
        let generated = try CallLogGenerator.generate(into: path, attempts: 150_000, days: 365, endMillis: end)
        #expect(generated.attempts + generated.shadowCalls >= 150_000)

        let reporter = try CostReporter(path: path)
        let shadows = try ShadowReporter(path: path)
        let week = try reporter.report(sinceMillis: end - 7 * Self.day, untilMillis: end, weeks: 0)
        let weekly = try reporter.report(sinceMillis: end - 7 * Self.day, untilMillis: end, weeks: 12)
        let year = try reporter.report(sinceMillis: end - 365 * Self.day, untilMillis: end, weeks: 52)
        let pairs = try shadows.report(sinceMillis: end - 7 * Self.day, untilMillis: end)
        let yearPairs = try shadows.report(sinceMillis: end - 365 * Self.day, untilMillis: end)
        let keysOnly = try reporter.report(sinceMillis: end, untilMillis: end, weeks: 0)
        #expect(keysOnly.totals.attempts == 0)
        let today = try reporter.spendByTask(sinceMillis: end - Self.day)
        #expect(!today.isEmpty)

        // The SQL figures match what the generator counted.
        #expect(year.totals.attempts == generated.attempts && year.totals.requests == generated.servedRequests)
        #expect(year.totals.failedAttempts == generated.failedAttempts && year.totals.servedByFallback == generated.servedByFallback)
        #expect(year.totals.shadowCalls == generated.shadowCalls)
        #expect(abs(year.totals.spendUSD - generated.spendUSD) < 1e-9 * generated.spendUSD)
        #expect(abs(year.totals.shadowSpendUSD - generated.shadowSpendUSD) < 1e-9 * generated.shadowSpendUSD)
        #expect(year.byTask.map(\.attempts).reduce(0, +) == generated.attempts && year.byTask.count == 5)
        #expect(year.byModel.map(\.attempts).reduce(0, +) == generated.attempts && year.byModel.count == 6)
        #expect(year.weekly.map(\.totals.attempts).reduce(0, +) >= generated.attempts * 51 / 53)
        #expect(yearPairs.map(\.calls).reduce(0, +) == generated.shadowResults)
        #expect(weekly.weekly.count == 12 && weekly.byTask == week.byTask && week.totals.attempts > 1_500)
        #expect(!pairs.isEmpty && year.totals.fallbackExtraUSD != 0)

        let db = try SQLiteConnection(path: path)
        try Self.expectIndexedPlans(on: db, "generated year")
        try db.exec("PRAGMA analysis_limit=1000; ANALYZE")
        try Self.expectIndexedPlans(on: db, "generated year after ANALYZE")
    }
}
