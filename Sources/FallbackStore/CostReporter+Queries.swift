/// The SQL behind ``CostReporter``. Each statement's plan is a `SEARCH` on an index (checked by the tests
/// with `EXPLAIN QUERY PLAN`, on an empty file and on a generated year, before and after `ANALYZE`).
extension CostReporter {
    /// The figures of one ``CostRow``, in column order:
    /// requests, attempts, input tokens, output tokens, spend, served by fallback, fallback extra,
    /// failed attempts, failed cost, shadow calls, shadow spend.
    ///
    /// `SUM` over no rows is NULL and reads as 0; `TOTAL` is always a real. A served row with
    /// `fallback_count > 0` but no `primary_cost_usd` adds 0 to the extra (nothing to compare with).
    static let figures = """
        SUM(served),
        SUM(shadow = 0),
        SUM(CASE WHEN shadow = 0 THEN input_tokens END),
        SUM(CASE WHEN shadow = 0 THEN output_tokens END),
        TOTAL(CASE WHEN shadow = 0 THEN cost_usd END),
        SUM(served = 1 AND fallback_count > 0),
        TOTAL(CASE WHEN served = 1 AND fallback_count > 0 THEN cost_usd - COALESCE(primary_cost_usd, cost_usd) END),
        SUM(shadow = 0 AND success = 0),
        TOTAL(CASE WHEN shadow = 0 AND success = 0 THEN cost_usd END),
        SUM(shadow <> 0),
        TOTAL(CASE WHEN shadow <> 0 THEN cost_usd END)
        """

    /// One (task, model) pair's figures over `[?3, ?4)`: a range search on the covering index
    /// `model_calls_report (task, model_name, ts_ms, ...)`, which never reads the table.
    static let pairSQL = """
        SELECT \(figures) FROM model_calls
        WHERE task = ?1 AND model_name = ?2 AND ts_ms >= ?3 AND ts_ms < ?4
        """

    /// Every distinct task, ascending: one index seek per task (a loose index scan written as a recursive CTE).
    static let taskKeysSQL = """
        WITH RECURSIVE keys(k) AS (
            SELECT MIN(task) FROM model_calls
            UNION ALL
            SELECT (SELECT MIN(task) FROM model_calls WHERE task > keys.k) FROM keys WHERE keys.k IS NOT NULL
        )
        SELECT k FROM keys WHERE k IS NOT NULL
        """

    /// Every distinct model of task `?1`, ascending: one seek per model in `model_calls_report`.
    static let modelKeysSQL = """
        WITH RECURSIVE keys(k) AS (
            SELECT MIN(model_name) FROM model_calls WHERE task = ?1
            UNION ALL
            SELECT (SELECT MIN(model_name) FROM model_calls WHERE task = ?1 AND model_name > keys.k)
            FROM keys WHERE keys.k IS NOT NULL
        )
        SELECT k FROM keys WHERE k IS NOT NULL
        """

    /// One app's figures over `[?2, ?3)`: a range search on `model_calls_app_ts (app, ts_ms)`.
    static let appSQL = """
        SELECT \(figures) FROM model_calls
        WHERE app = ?1 AND ts_ms >= ?2 AND ts_ms < ?3
        """

    /// Every distinct app, ascending: one seek per app in `model_calls_app_ts`.
    static let appKeysSQL = """
        WITH RECURSIVE keys(k) AS (
            SELECT MIN(app) FROM model_calls
            UNION ALL
            SELECT (SELECT MIN(app) FROM model_calls WHERE app > keys.k) FROM keys WHERE keys.k IS NOT NULL
        )
        SELECT k FROM keys WHERE k IS NOT NULL
        """

    /// Every statement the reporter runs, for plan checks.
    static var queries: [String] { [pairSQL, taskKeysSQL, modelKeysSQL, appSQL, appKeysSQL] }
}

extension CostRow {
    /// Whether nothing at all was counted (no attempt, no shadow call).
    var isEmpty: Bool { attempts == 0 && shadowCalls == 0 }

    /// Adds every figure of `other` (not its key) to this row.
    mutating func add(_ other: CostRow) {
        requests += other.requests
        attempts += other.attempts
        inputTokens += other.inputTokens
        outputTokens += other.outputTokens
        spendUSD += other.spendUSD
        servedByFallback += other.servedByFallback
        fallbackExtraUSD += other.fallbackExtraUSD
        failedAttempts += other.failedAttempts
        failedCostUSD += other.failedCostUSD
        shadowCalls += other.shadowCalls
        shadowSpendUSD += other.shadowSpendUSD
    }
}
