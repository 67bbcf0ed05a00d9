/// How a shadow model compared with the model it shadowed, over a time range.
///
/// Ratios and the mean similarity only look at the calls where both sides succeeded (a failed side
/// has no meaningful latency, cost or output); they are `nil` when there is no such call or the
/// primary's denominator is 0.
public struct ShadowPairRow: Sendable, Hashable {
    /// The model that served the callers.
    public var primaryModel: String
    /// The backup model that ran in parallel.
    public var shadowModel: String
    /// Shadow comparisons stored for the pair.
    public var calls: Int
    /// Comparisons where both sides succeeded (the base of the ratios).
    public var bothSucceeded: Int
    /// Primary successes / ``calls``.
    public var primarySuccessRate: Double
    /// Shadow successes / ``calls``.
    public var shadowSuccessRate: Double
    /// Mean shadow latency / mean primary latency, over calls where both succeeded.
    public var latencyRatio: Double?
    /// Sum of shadow cost / sum of primary cost, over calls where both succeeded.
    public var costRatio: Double?
    /// Mean token-set similarity of the two outputs, over calls where both succeeded.
    public var meanSimilarity: Double?

    /// Builds a row (the reporter fills it from SQL; this is for fakes and tests).
    public init(
        primaryModel: String, shadowModel: String, calls: Int, bothSucceeded: Int, primarySuccessRate: Double,
        shadowSuccessRate: Double, latencyRatio: Double?, costRatio: Double?, meanSimilarity: Double?
    ) {
        self.primaryModel = primaryModel
        self.shadowModel = shadowModel
        self.calls = calls
        self.bothSucceeded = bothSucceeded
        self.primarySuccessRate = primarySuccessRate
        self.shadowSuccessRate = shadowSuccessRate
        self.latencyRatio = latencyRatio
        self.costRatio = costRatio
        self.meanSimilarity = meanSimilarity
    }
}

/// Answers `shadow.report` from `shadow_results`, through its own read-only connection.
/// Not `Sendable`: use one reporter per task or queue (opening one is cheap).
public final class ShadowReporter {
    private let connection: SQLiteConnection

    /// Opens the database at `path` read-only. The file must exist and be at schema version 3.
    public init(path: String, busyTimeoutMs: Int32 = 5_000) throws(StoreError) {
        connection = try SQLiteConnection(path: path, readOnly: true, busyTimeoutMs: busyTimeoutMs)
    }

    /// One row per (primary, shadow) pair with comparisons started in `[sinceMillis, untilMillis)`,
    /// ordered by primary then shadow model.
    public func report(sinceMillis: Int64, untilMillis: Int64) throws(StoreError) -> [ShadowPairRow] {
        let statement = try connection.prepare(Self.pairsSQL)
        try statement.bind(sinceMillis, at: 1)
        try statement.bind(untilMillis, at: 2)
        var rows: [ShadowPairRow] = []
        while try statement.step() {
            let calls = Int(statement.int64(at: 2))
            guard calls > 0 else { continue }
            let both = Int(statement.int64(at: 5))
            let primaryLatency = statement.double(at: 6)
            let primaryCost = statement.double(at: 8)
            rows.append(ShadowPairRow(
                primaryModel: statement.text(at: 0) ?? "",
                shadowModel: statement.text(at: 1) ?? "",
                calls: calls,
                bothSucceeded: both,
                primarySuccessRate: Double(statement.int64(at: 3)) / Double(calls),
                shadowSuccessRate: Double(statement.int64(at: 4)) / Double(calls),
                latencyRatio: both > 0 && primaryLatency > 0 ? statement.double(at: 7) / primaryLatency : nil,
                costRatio: both > 0 && primaryCost > 0 ? statement.double(at: 9) / primaryCost : nil,
                meanSimilarity: both > 0 ? statement.doubleOrNil(at: 10) : nil))
        }
        return rows
    }

    /// Closes the reporter's connection; later reports fail with `.closed`.
    public func close() {
        connection.close()
    }

    /// Per pair over `[?1, ?2)`: primary, shadow, calls, primary successes, shadow successes, both succeeded,
    /// then over both-succeeded calls: primary latency sum, shadow latency sum, primary cost sum,
    /// shadow cost sum, mean similarity. A range search on `shadow_results_ts`.
    static let pairsSQL = """
        SELECT primary_model, shadow_model, COUNT(*),
            SUM(primary_success = 1), SUM(shadow_success = 1),
            SUM(primary_success = 1 AND shadow_success = 1),
            TOTAL(CASE WHEN primary_success = 1 AND shadow_success = 1 THEN primary_latency_ms END),
            TOTAL(CASE WHEN primary_success = 1 AND shadow_success = 1 THEN shadow_latency_ms END),
            TOTAL(CASE WHEN primary_success = 1 AND shadow_success = 1 THEN primary_cost_usd END),
            TOTAL(CASE WHEN primary_success = 1 AND shadow_success = 1 THEN shadow_cost_usd END),
            AVG(CASE WHEN primary_success = 1 AND shadow_success = 1 THEN similarity END)
        FROM shadow_results WHERE ts_ms >= ?1 AND ts_ms < ?2
        GROUP BY primary_model, shadow_model ORDER BY primary_model, shadow_model
        """
}
