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

    /// One task's figures: `task = ?1 AND ts_ms in [?2, ?3)`, a range search on `model_calls_task_ts`.
    static let taskSQL = "SELECT \(figures) FROM model_calls WHERE task = ?1 AND ts_ms >= ?2 AND ts_ms < ?3"

    /// One model's figures: a range search on `model_calls_model_ts`.
    static let modelSQL = "SELECT \(figures) FROM model_calls WHERE model_name = ?1 AND ts_ms >= ?2 AND ts_ms < ?3"

    /// Everything in `[?1, ?2)`: a range search on `model_calls_ts` (also each week's row).
    static let totalsSQL = "SELECT \(figures) FROM model_calls WHERE ts_ms >= ?1 AND ts_ms < ?2"

    /// Every distinct task, one index seek per task (a loose index scan written as a recursive CTE).
    static let taskKeysSQL = distinctKeys("task")

    /// Every distinct model, one index seek per model.
    static let modelKeysSQL = distinctKeys("model_name")

    /// Non-shadow spend per task since `?1`: a range search on `model_calls_ts`, then a small GROUP BY.
    static let spendByTaskSQL = """
        SELECT task, TOTAL(cost_usd) FROM model_calls
        WHERE ts_ms >= ?1 AND shadow = 0 AND task IS NOT NULL GROUP BY task
        """

    /// Shadow spend since `?1`: a range search on the partial index `model_calls_shadow_ts`.
    static let shadowSpendSQL = "SELECT TOTAL(cost_usd) FROM model_calls WHERE shadow = 1 AND ts_ms >= ?1"

    /// Every statement the reporter runs, for plan checks.
    static var queries: [String] {
        [taskSQL, modelSQL, totalsSQL, taskKeysSQL, modelKeysSQL, spendByTaskSQL, shadowSpendSQL]
    }

    /// Distinct non-NULL values of `column`, ascending, without reading the table: each step seeks the
    /// smallest value above the previous one in the index that starts with `column`.
    private static func distinctKeys(_ column: String) -> String {
        """
        WITH RECURSIVE keys(k) AS (
            SELECT MIN(\(column)) FROM model_calls
            UNION ALL
            SELECT (SELECT MIN(\(column)) FROM model_calls WHERE \(column) > keys.k) FROM keys WHERE keys.k IS NOT NULL
        )
        SELECT k FROM keys WHERE k IS NOT NULL
        """
    }
}
