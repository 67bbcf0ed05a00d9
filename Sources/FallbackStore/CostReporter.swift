/// Answers `cost.report` and restores budgets from the call log, through its own read-only connection
/// (WAL lets it read while the ``CallLog`` writes).
///
/// Every query is a range search on an index, never a scan of `model_calls`: per task and per model the
/// reporter first lists the keys by hopping through the `(task, ts_ms)` / `(model_name, ts_ms)` indexes
/// (one seek per distinct key), then aggregates each key with one `key = ? AND ts_ms` range search, so no
/// query sorts the range for a GROUP BY. Totals and weeks are range searches on `ts_ms`.
///
/// Times are unix milliseconds; ranges are `[since, until)`. Not `Sendable`: use one reporter per task or
/// queue (opening one is cheap).
public final class CostReporter {
    private let connection: SQLiteConnection

    /// Opens the database at `path` read-only. The file must exist and be at schema version 3
    /// (open a ``CallLog`` on it first).
    public init(path: String, busyTimeoutMs: Int32 = 5_000) throws(StoreError) {
        connection = try SQLiteConnection(path: path, readOnly: true, busyTimeoutMs: busyTimeoutMs)
    }

    /// Spend per task and per model, the totals, and the totals of the `weeks` most recent UTC weeks.
    /// - Parameters:
    ///   - sinceMillis: start of the range, inclusive.
    ///   - untilMillis: end of the range, exclusive; also the end of the newest week.
    ///   - weeks: how many weeks (Monday 00:00 UTC to Monday 00:00 UTC) end at `untilMillis`; 0 for none.
    public func report(sinceMillis: Int64, untilMillis: Int64, weeks: Int = 12) throws(StoreError) -> CostReport {
        let byTask = try rows(keysSQL: Self.taskKeysSQL, aggregateSQL: Self.taskSQL, since: sinceMillis, until: untilMillis)
        let byModel = try rows(keysSQL: Self.modelKeysSQL, aggregateSQL: Self.modelSQL, since: sinceMillis, until: untilMillis)
        let totals = try connection.prepare(Self.totalsSQL)
        let total = try Self.aggregate(totals, key: "total", bindKey: nil, since: sinceMillis, until: untilMillis)
        var weekly: [WeekRow] = []
        if weeks > 0 && untilMillis > Int64.min {
            let newest = WeekRow.start(containing: untilMillis - 1)
            for back in stride(from: Int64(weeks - 1), through: 0, by: -1) {
                let start = newest &- back &* WeekRow.millis
                let end = Swift.min(start &+ WeekRow.millis, untilMillis)
                let key = String(ISOTimestamp.string(unixMillis: start).prefix(10))
                let row = try Self.aggregate(totals, key: key, bindKey: nil, since: start, until: end)
                weekly.append(WeekRow(weekStartMillis: start, totals: row))
            }
        }
        return CostReport(
            sinceMillis: sinceMillis, untilMillis: untilMillis, byTask: byTask, byModel: byModel, totals: total, weekly: weekly)
    }

    /// Spend per task since `sinceMillis` (non-shadow attempts, failed and reported ones included):
    /// what the budget ledger restores at start. Tasks without spend in the range are absent.
    public func spendByTask(sinceMillis: Int64) throws(StoreError) -> [String: Double] {
        let statement = try connection.prepare(Self.spendByTaskSQL)
        try statement.bind(sinceMillis, at: 1)
        var spend: [String: Double] = [:]
        while try statement.step() {
            guard let task = statement.text(at: 0) else { continue }
            spend[task] = statement.double(at: 1)
        }
        return spend
    }

    /// Spend on shadow calls since `sinceMillis`: what the shadow sampler's daily cap restores at start.
    public func shadowSpend(sinceMillis: Int64) throws(StoreError) -> Double {
        let statement = try connection.prepare(Self.shadowSpendSQL)
        try statement.bind(sinceMillis, at: 1)
        guard try statement.step() else { return 0 }
        return statement.double(at: 0)
    }

    /// Closes the reporter's connection; later reports fail with `.closed`.
    public func close() {
        connection.close()
    }

    private func rows(keysSQL: String, aggregateSQL: String, since: Int64, until: Int64) throws(StoreError) -> [CostRow] {
        let keys = try connection.prepare(keysSQL)
        var names: [String] = []
        while try keys.step() {
            if let name = keys.text(at: 0) { names.append(name) }
        }
        let aggregate = try connection.prepare(aggregateSQL)
        var rows: [CostRow] = []
        for name in names {
            let row = try Self.aggregate(aggregate, key: name, bindKey: name, since: since, until: until)
            if row.attempts > 0 || row.shadowCalls > 0 { rows.append(row) }
        }
        return rows.sorted { ($0.spendUSD, $1.key) > ($1.spendUSD, $0.key) }
    }

    /// Runs one aggregate statement (parameters: the key when there is one, then since and until).
    private static func aggregate(
        _ statement: SQLiteStatement, key: String, bindKey: String?, since: Int64, until: Int64
    ) throws(StoreError) -> CostRow {
        statement.reset()
        defer { statement.reset() }
        var index: Int32 = 1
        if let bindKey {
            try statement.bind(bindKey, at: 1)
            index = 2
        }
        try statement.bind(since, at: index)
        try statement.bind(until, at: index + 1)
        guard try statement.step() else { return CostRow(key: key) }
        func int(_ column: Int32) -> Int { Int(statement.int64(at: column)) }
        return CostRow(
            key: key, requests: int(0), attempts: int(1), inputTokens: int(2), outputTokens: int(3),
            spendUSD: statement.double(at: 4), servedByFallback: int(5), fallbackExtraUSD: statement.double(at: 6),
            failedAttempts: int(7), failedCostUSD: statement.double(at: 8), shadowCalls: int(9),
            shadowSpendUSD: statement.double(at: 10))
    }
}
