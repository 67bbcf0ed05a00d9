import FallbackCore
import Testing

@testable import FallbackStore

/// Hand-built call logs with every expected figure worked out by hand. Costs are binary fractions
/// (0.25, 0.125, ...) so sums are exact and compared with `==`.
@Suite("CostReporter")
struct CostReporterTests {
    /// Monday 2026-11-23 00:00:00.000 UTC.
    static let monday: Int64 = 1_795_392_000_000
    static let week = WeekRow.millis

    /// One attempt as the router records it; `fallback` and `primaryCost` only on a serving attempt.
    static func call(
        _ request: String, _ task: String, _ model: String, at ts: Int64, ok: Bool, tokens: (Int, Int) = (0, 0), cost: Double = 0,
        fallback: Int? = nil, primaryCost: Double? = nil, shadow: Bool = false, chain: String? = nil, index: Int = 0
    ) -> AttemptRecord {
        var record = AttemptRecord(
            requestID: request, task: task, chain: chain ?? (shadow ? "shadow" : task), model: model, provider: "p",
            attemptIndex: index, startedAtMillis: ts, latencyMs: 100, success: ok, errorType: ok ? nil : .serverError,
            httpStatus: ok ? 200 : 500, usage: Usage(inputTokens: tokens.0, outputTokens: tokens.1), costUSD: cost,
            metadataJSON: nil)
        record.fallbackCount = fallback
        record.primaryCostUSD = primaryCost
        record.shadow = shadow
        return record
    }

    /// r1..r5 in the two weeks around `monday`, plus r6 just before the range and r7 at its (exclusive) end.
    static let rows: [AttemptRecord] = {
        let m = monday
        return [
            // r1 (summarize): the pricey primary fails, the cheap fallback serves: extra 0.25 - 1.0 = -0.75.
            call("r1", "summarize", "big", at: m - 2, ok: false),
            call("r1", "summarize", "small", at: m - 1, ok: true, tokens: (100, 50), cost: 0.25, fallback: 1, primaryCost: 1.0, index: 1),
            // r2 (summarize): the primary serves; its shadow on "mid" succeeds.
            call("r2", "summarize", "big", at: m - 1, ok: true, tokens: (200, 100), cost: 2.0, fallback: 0, primaryCost: 2.0),
            call("r2", "summarize", "mid", at: m - 1, ok: true, tokens: (200, 90), cost: 0.375, shadow: true),
            // r1's shadow on "mid" fails but is billed.
            call("r1", "summarize", "mid", at: m - 1, ok: false, tokens: (5, 0), cost: 0.03125, shadow: true),
            // r3 (reason): the cheap primary fails with billed tokens, the pricey fallback serves: extra 4.0 - 0.5 = +3.5.
            call("r3", "reason", "small", at: m, ok: false, tokens: (10, 5), cost: 0.125),
            call("r3", "reason", "big", at: m, ok: true, tokens: (300, 200), cost: 4.0, fallback: 1, primaryCost: 0.5, index: 1),
            // r4 (reason): everything fails; the second failure was billed.
            call("r4", "reason", "small", at: m, ok: false),
            call("r4", "reason", "big", at: m, ok: false, tokens: (40, 0), cost: 0.5, index: 1),
            // r5: a call the app reported itself.
            call("r5", "summarize", "mid", at: m, ok: true, tokens: (50, 50), cost: 0.0625, chain: "reported"),
            // Outside [m - 7d, m + 7d): one millisecond before, and exactly at the end.
            call("r6", "summarize", "big", at: m - week - 1, ok: true, tokens: (1, 1), cost: 8.0, fallback: 0, primaryCost: 8.0),
            call("r7", "summarize", "big", at: m + week, ok: true, tokens: (1, 1), cost: 16.0, fallback: 0, primaryCost: 16.0),
        ]
    }()

    /// A fresh log holding `rows`, written through ``CallLog`` (so the v3 columns come from the real writer).
    static func withLog(_ rows: [AttemptRecord], _ body: (String) throws -> Void) async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let log = try CallLog(path: dir.path(), logger: LogCapture().logger)
        for row in rows { log.record(row) }
        #expect(await log.flush().written == rows.count)
        await log.close()
        try body(dir.path())
    }

    @Test func everyFigureByTaskModelTotalAndWeek() async throws {
        try await Self.withLog(Self.rows) { path in
            let report = try CostReporter(path: path).report(
                sinceMillis: Self.monday - Self.week, untilMillis: Self.monday + Self.week, weeks: 3)
            #expect(report.sinceMillis == Self.monday - Self.week && report.untilMillis == Self.monday + Self.week)
            #expect(report.byTask == [
                CostRow(key: "reason", requests: 1, attempts: 4, inputTokens: 350, outputTokens: 205, spendUSD: 4.625,
                        servedByFallback: 1, fallbackExtraUSD: 3.5, failedAttempts: 3, failedCostUSD: 0.625),
                CostRow(key: "summarize", requests: 3, attempts: 4, inputTokens: 350, outputTokens: 200, spendUSD: 2.3125,
                        servedByFallback: 1, fallbackExtraUSD: -0.75, failedAttempts: 1, failedCostUSD: 0,
                        shadowCalls: 2, shadowSpendUSD: 0.40625),
            ])
            #expect(report.byTask.map(\.fallbackShare) == [1.0, 1.0 / 3.0])
            #expect(report.byModel == [
                CostRow(key: "big", requests: 2, attempts: 4, inputTokens: 540, outputTokens: 300, spendUSD: 6.5,
                        servedByFallback: 1, fallbackExtraUSD: 3.5, failedAttempts: 2, failedCostUSD: 0.5),
                CostRow(key: "small", requests: 1, attempts: 3, inputTokens: 110, outputTokens: 55, spendUSD: 0.375,
                        servedByFallback: 1, fallbackExtraUSD: -0.75, failedAttempts: 2, failedCostUSD: 0.125),
                CostRow(key: "mid", requests: 1, attempts: 1, inputTokens: 50, outputTokens: 50, spendUSD: 0.0625,
                        shadowCalls: 2, shadowSpendUSD: 0.40625),
            ])
            #expect(report.byModel.map(\.fallbackShare) == [0.5, 1.0, 0.0])
            #expect(report.totals == CostRow(
                key: "total", requests: 4, attempts: 8, inputTokens: 700, outputTokens: 405, spendUSD: 6.9375,
                servedByFallback: 2, fallbackExtraUSD: 2.75, failedAttempts: 4, failedCostUSD: 0.625,
                shadowCalls: 2, shadowSpendUSD: 0.40625))
            #expect(report.totals.fallbackShare == 0.5)

            // Weeks end at untilMillis: r6 (Sunday 23:59:59.999, two weeks back) is in the oldest week,
            // r1/r2 (Sunday 23:59:59.999) in the middle one, r3..r5 (Monday 00:00:00.000) in the newest.
            #expect(report.weekly == [
                WeekRow(weekStartMillis: Self.monday - 2 * Self.week, totals: CostRow(
                    key: "2026-11-09", requests: 1, attempts: 1, inputTokens: 1, outputTokens: 1, spendUSD: 8.0)),
                WeekRow(weekStartMillis: Self.monday - Self.week, totals: CostRow(
                    key: "2026-11-16", requests: 2, attempts: 3, inputTokens: 300, outputTokens: 150, spendUSD: 2.25,
                    servedByFallback: 1, fallbackExtraUSD: -0.75, failedAttempts: 1, shadowCalls: 2, shadowSpendUSD: 0.40625)),
                WeekRow(weekStartMillis: Self.monday, totals: CostRow(
                    key: "2026-11-23", requests: 2, attempts: 5, inputTokens: 400, outputTokens: 255, spendUSD: 4.6875,
                    servedByFallback: 1, fallbackExtraUSD: 3.5, failedAttempts: 3, failedCostUSD: 0.625)),
            ])
        }
    }

    @Test func weeksStartOnMondayMidnightUTC() async throws {
        #expect(WeekRow.start(containing: Self.monday) == Self.monday)
        #expect(WeekRow.start(containing: Self.monday - 1) == Self.monday - Self.week)
        #expect(WeekRow.start(containing: Self.monday + Self.week - 1) == Self.monday)
        #expect(WeekRow.start(containing: 0) == -3 * 86_400_000)  // Thursday 1970-01-01 -> Monday 1969-12-29
        #expect(ISOTimestamp.string(unixMillis: WeekRow.start(containing: 1_709_210_096_007)) == "2024-02-26T00:00:00.000Z")

        // A report ending on a Wednesday: the newest week is partial, and a row at the end is excluded.
        try await Self.withLog(Self.rows) { path in
            let wednesday = Self.monday + 2 * 86_400_000
            let report = try CostReporter(path: path).report(sinceMillis: Self.monday, untilMillis: wednesday, weeks: 2)
            #expect(report.weekly.map(\.weekStartMillis) == [Self.monday - Self.week, Self.monday])
            #expect(report.weekly.map(\.totals.attempts) == [3, 5])
            #expect(report.totals.attempts == 5 && report.totals.spendUSD == 4.6875)
            // Ending exactly on Monday 00:00: that Monday's rows are after the end; the newest week is the one before.
            let atMonday = try CostReporter(path: path).report(sinceMillis: 0, untilMillis: Self.monday, weeks: 1)
            #expect(atMonday.weekly.map(\.weekStartMillis) == [Self.monday - Self.week])
            #expect(atMonday.weekly.map(\.totals.spendUSD) == [2.25])
            #expect(try CostReporter(path: path).report(sinceMillis: 0, untilMillis: Self.monday, weeks: 0).weekly.isEmpty)
        }
    }

    @Test func emptyRangesAndUnknownPrimaryCost() async throws {
        var noPrimary = Self.call("r9", "tag", "small", at: Self.monday, ok: true, tokens: (1, 1), cost: 0.5, fallback: 2)
        noPrimary.primaryCostUSD = nil
        try await Self.withLog(Self.rows + [noPrimary]) { path in
            let reporter = try CostReporter(path: path)
            let tag = try reporter.report(sinceMillis: Self.monday, untilMillis: Self.monday + 1, weeks: 0).byTask.first { $0.key == "tag" }
            #expect(tag == CostRow(key: "tag", requests: 1, attempts: 1, inputTokens: 1, outputTokens: 1, spendUSD: 0.5,
                                   servedByFallback: 1, fallbackExtraUSD: 0))
            let empty = try reporter.report(sinceMillis: 0, untilMillis: 1_000, weeks: 1)
            #expect(empty.byTask.isEmpty && empty.byModel.isEmpty && empty.totals == CostRow(key: "total"))
            #expect(empty.weekly == [WeekRow(weekStartMillis: -3 * 86_400_000, totals: CostRow(key: "1969-12-29"))])
            reporter.close()
            #expect(throws: StoreError.closed) { try reporter.report(sinceMillis: 0, untilMillis: 1, weeks: 0) }
        }
    }

    @Test func spendTodayForBudgetsAndShadowCap() async throws {
        try await Self.withLog(Self.rows) { path in
            let reporter = try CostReporter(path: path)
            // Since Monday 00:00 (no end): r3, r4, r5 and r7; shadows excluded.
            #expect(try reporter.spendByTask(sinceMillis: Self.monday) == ["reason": 4.625, "summarize": 16.0625])
            #expect(try reporter.spendByTask(sinceMillis: Self.monday + Self.week + 1) == [:])
            #expect(try reporter.shadowSpend(sinceMillis: Self.monday - 1) == 0.40625)
            #expect(try reporter.shadowSpend(sinceMillis: Self.monday) == 0)
        }
    }
}
