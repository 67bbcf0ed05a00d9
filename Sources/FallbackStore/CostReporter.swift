/// Answers `cost.report` and restores budgets and the shadow cap from the call log, through its own
/// read-only connection (WAL lets it read while the ``CallLog`` writes).
///
/// Every figure comes from one aggregate query per (task, model) pair on the covering index
/// `model_calls_report (task, model_name, ts_ms, ...)`: a range search that never reads the table and
/// never sorts the range for a GROUP BY. The pairs are listed by hopping through the same index (one
/// seek per distinct key). Per task, per model, totals and weeks are sums of pair rows, so they always
/// agree with one another. Rows without a task or a model (fallbackd never writes any) are not counted.
///
/// Times are unix milliseconds; ranges are `[since, until)`. Not `Sendable`: use one reporter per task or
/// queue (opening one is cheap).
public final class CostReporter {
    let connection: SQLiteConnection

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
        let pairs = try self.pairs()
        let statement = try connection.prepare(Self.pairSQL)
        var byTask: [String: CostRow] = [:]
        var byModel: [String: CostRow] = [:]
        var totals = CostRow(key: "total")
        for (task, model) in pairs {
            let row = try Self.figures(statement, task: task, model: model, since: sinceMillis, until: untilMillis)
            guard !row.isEmpty else { continue }
            byTask[task, default: CostRow(key: task)].add(row)
            byModel[model, default: CostRow(key: model)].add(row)
            totals.add(row)
        }
        var weekly: [WeekRow] = []
        if weeks > 0 && untilMillis > Int64.min {
            let newest = WeekRow.start(containing: untilMillis - 1)
            for back in stride(from: Int64(weeks - 1), through: 0, by: -1) {
                let start = newest &- back &* WeekRow.millis
                let end = Swift.min(start &+ WeekRow.millis, untilMillis)
                var week = CostRow(key: String(ISOTimestamp.string(unixMillis: start).prefix(10)))
                for (task, model) in pairs {
                    week.add(try Self.figures(statement, task: task, model: model, since: start, until: end))
                }
                weekly.append(WeekRow(weekStartMillis: start, totals: week))
            }
        }
        var report = CostReport(
            sinceMillis: sinceMillis, untilMillis: untilMillis, byTask: Self.sorted(byTask), byModel: Self.sorted(byModel),
            totals: totals, weekly: weekly)
        report.byApp = try byApp(sinceMillis: sinceMillis, untilMillis: untilMillis)
        return report
    }

    /// Spend per task since `sinceMillis` (non-shadow attempts, failed and reported ones included, as in
    /// ``CostRow/spendUSD``): what the budget ledger restores at start. Tasks without calls since then are absent.
    public func spendByTask(sinceMillis: Int64) throws(StoreError) -> [String: Double] {
        var spend: [String: Double] = [:]
        for row in try sinceRows(sinceMillis) where row.row.attempts > 0 {
            spend[row.task, default: 0] += row.row.spendUSD
        }
        return spend
    }

    /// Spend on shadow calls since `sinceMillis`: what the shadow sampler's daily cap restores at start.
    public func shadowSpend(sinceMillis: Int64) throws(StoreError) -> Double {
        try sinceRows(sinceMillis).reduce(0) { $0 + $1.row.shadowSpendUSD }
    }

    /// Closes the reporter's connection; later reports fail with `.closed`.
    public func close() {
        connection.close()
    }

    /// Every (task, model) pair in the log, ordered by task then model.
    private func pairs() throws(StoreError) -> [(task: String, model: String)] {
        let tasks = try connection.prepare(Self.taskKeysSQL)
        let models = try connection.prepare(Self.modelKeysSQL)
        var pairs: [(task: String, model: String)] = []
        while try tasks.step() {
            guard let task = tasks.text(at: 0) else { continue }
            models.reset()
            try models.bind(task, at: 1)
            while try models.step() {
                if let model = models.text(at: 0) { pairs.append((task, model)) }
            }
        }
        models.reset()
        return pairs
    }

    /// Each pair's figures from `sinceMillis` on, with its task.
    private func sinceRows(_ sinceMillis: Int64) throws(StoreError) -> [(task: String, row: CostRow)] {
        let statement = try connection.prepare(Self.pairSQL)
        var rows: [(task: String, row: CostRow)] = []
        for (task, model) in try pairs() {
            rows.append((task, try Self.figures(statement, task: task, model: model, since: sinceMillis, until: Int64.max)))
        }
        return rows
    }

    /// Runs ``pairSQL`` for one pair and range.
    private static func figures(
        _ statement: SQLiteStatement, task: String, model: String, since: Int64, until: Int64
    ) throws(StoreError) -> CostRow {
        statement.reset()
        defer { statement.reset() }
        try statement.bind(task, at: 1)
        try statement.bind(model, at: 2)
        try statement.bind(since, at: 3)
        try statement.bind(until, at: 4)
        guard try statement.step() else { return CostRow(key: model) }
        return row(statement, key: model)
    }

    /// The ``figures`` columns of the current result row.
    static func row(_ statement: SQLiteStatement, key: String) -> CostRow {
        func int(_ column: Int32) -> Int { Int(statement.int64(at: column)) }
        return CostRow(
            key: key, requests: int(0), attempts: int(1), inputTokens: int(2), outputTokens: int(3),
            spendUSD: statement.double(at: 4), servedByFallback: int(5), fallbackExtraUSD: statement.double(at: 6),
            failedAttempts: int(7), failedCostUSD: statement.double(at: 8), shadowCalls: int(9),
            shadowSpendUSD: statement.double(at: 10))
    }

    /// Highest spend first, ties by key.
    private static func sorted(_ rows: [String: CostRow]) -> [CostRow] {
        rows.values.sorted { ($0.spendUSD, $1.key) > ($1.spendUSD, $0.key) }
    }
}
