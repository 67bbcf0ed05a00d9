import CSQLite

/// The store's schema: the `model_calls` call log, its indexes, the pragmas, and versioned migrations.
///
/// The version lives in `PRAGMA user_version`. Each entry of ``migrations`` brings the file from
/// `version - 1` to `version` inside one transaction; later issues append entries (v2: breaker state and
/// health buckets, v3: cost columns and shadow results) and bump nothing else.
public enum CallLogSchema {
    /// One step of the schema history.
    public struct Migration: Sendable {
        /// The `user_version` the file has after this step.
        public var version: Int
        /// What the step is for, for logs.
        public var summary: String
        /// The SQL the step runs.
        public var sql: String
    }

    /// Columns of `model_calls` in table order: the seed's columns first, then fallbackd's.
    public static let columns = [
        "id", "timestamp", "model_name", "success", "latency_ms", "error_type",
        "ts_ms", "request_id", "task", "chain", "provider", "attempt_index",
        "http_status", "input_tokens", "output_tokens", "cost_usd", "metadata",
        "served", "fallback_count", "primary_cost_usd", "shadow",
        "cached_input_tokens", "cache_write_tokens", "reasoning_tokens", "app", "hedged",
    ]

    /// Columns of `shadow_results` in table order.
    public static let shadowColumns = [
        "id", "ts_ms", "request_id", "task",
        "primary_model", "primary_success", "primary_error_type", "primary_latency_ms", "primary_input_tokens",
        "primary_output_tokens", "primary_cost_usd", "primary_output_length",
        "shadow_model", "shadow_success", "shadow_error_type", "shadow_latency_ms", "shadow_input_tokens",
        "shadow_output_tokens", "shadow_cost_usd", "shadow_output_length", "similarity",
    ]

    /// Version 1: the call log.
    static let createCallLog = """
        CREATE TABLE IF NOT EXISTS model_calls (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            timestamp TEXT,
            model_name TEXT,
            success INTEGER,
            latency_ms INTEGER,
            error_type TEXT,
            ts_ms INTEGER,
            request_id TEXT,
            task TEXT,
            chain TEXT,
            provider TEXT,
            attempt_index INTEGER,
            http_status INTEGER,
            input_tokens INTEGER,
            output_tokens INTEGER,
            cost_usd REAL,
            metadata TEXT
        );
        CREATE INDEX IF NOT EXISTS model_calls_ts ON model_calls (ts_ms);
        CREATE INDEX IF NOT EXISTS model_calls_model_ts ON model_calls (model_name, ts_ms);
        CREATE INDEX IF NOT EXISTS model_calls_task_ts ON model_calls (task, ts_ms);
        CREATE INDEX IF NOT EXISTS model_calls_request ON model_calls (request_id);
        """

    /// Every migration, in order. Append new versions at the end; never edit a released one.
    public static let migrations: [Migration] = [
        Migration(version: 1, summary: "model_calls call log", sql: createCallLog),
        Migration(version: 2, summary: "breaker_state and health_buckets", sql: createResilienceState),
        Migration(version: 3, summary: "cost columns and shadow_results", sql: addCostColumns + createShadowResults),
        Migration(version: 4, summary: "cache and reasoning token counts", sql: addTokenDetailColumns),
        Migration(version: 5, summary: "the calling app, hedged attempts", sql: addAppColumn),
        Migration(version: 6, summary: "drop two indexes nothing reads", sql: dropUnreadIndexes),
    ]

    /// Version 6: every attempt paid an entry in each secondary index. `(task, ts_ms)` is a prefix of
    /// `model_calls_report`'s columns, and no query seeks by `(model_name, ts_ms)`.
    static let dropUnreadIndexes = """
        DROP INDEX IF EXISTS model_calls_task_ts;
        DROP INDEX IF EXISTS model_calls_model_ts;
        """

    /// Version 5: who asked (the socket peer's app name), indexed by (app, time) for `cost.report`'s
    /// per-app rows and the per-app budgets restored at start; and whether an attempt was a hedge.
    static let addAppColumn = """
        ALTER TABLE model_calls ADD COLUMN app TEXT;
        ALTER TABLE model_calls ADD COLUMN hedged INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX IF NOT EXISTS model_calls_app_ts ON model_calls (app, ts_ms);
        """

    /// Version 4: the token counts prices depend on beyond input and output (prompt-cache reads and
    /// writes, reasoning). No index: reports read them only through rows already selected.
    static let addTokenDetailColumns = """
        ALTER TABLE model_calls ADD COLUMN cached_input_tokens INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE model_calls ADD COLUMN cache_write_tokens INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE model_calls ADD COLUMN reasoning_tokens INTEGER NOT NULL DEFAULT 0;
        """

    /// Version 2: what the resilience engine restores at start. Times are wall-clock unix millis.
    static let createResilienceState = """
        CREATE TABLE IF NOT EXISTS breaker_state (
            model_name TEXT PRIMARY KEY,
            phase TEXT NOT NULL,
            open_until_ms INTEGER,
            level INTEGER NOT NULL,
            trips INTEGER NOT NULL,
            consecutive_failures INTEGER NOT NULL,
            misconfigured INTEGER NOT NULL,
            last_failure_ms INTEGER,
            closed_since_ms INTEGER,
            last_trip_reason TEXT,
            window TEXT NOT NULL,
            updated_ms INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS health_buckets (
            model_name TEXT NOT NULL,
            bucket_start_ms INTEGER NOT NULL,
            calls INTEGER NOT NULL,
            successes INTEGER NOT NULL,
            latency_sum_ms INTEGER NOT NULL,
            histogram TEXT NOT NULL,
            PRIMARY KEY (model_name, bucket_start_ms)
        );
        """

    /// Version 3, first half: what the cost ledger needs on each attempt.
    ///
    /// Rows written before v3 get `served = success` (there were no shadow calls yet, so every successful
    /// attempt served its request); `fallback_count` and `primary_cost_usd` stay NULL for them.
    ///
    /// `model_calls_report` covers every column the cost report reads, keyed by (task, model, time): the
    /// report runs one range search per (task, model) pair on it and never reads the table itself or sorts
    /// the range (see ``CostReporter``). On a generated year (1M attempts) a whole-year report with 52 weekly
    /// rows takes ~1 s this way against ~2.8 s with per-key searches on the v1 indexes (which read the
    /// table), for one more index entry per attempt.
    static let addCostColumns = """
        ALTER TABLE model_calls ADD COLUMN served INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE model_calls ADD COLUMN fallback_count INTEGER;
        ALTER TABLE model_calls ADD COLUMN primary_cost_usd REAL;
        ALTER TABLE model_calls ADD COLUMN shadow INTEGER NOT NULL DEFAULT 0;
        UPDATE model_calls SET served = 1 WHERE success = 1;
        CREATE INDEX IF NOT EXISTS model_calls_report ON model_calls (
            task, model_name, ts_ms, served, shadow, success, fallback_count,
            input_tokens, output_tokens, cost_usd, primary_cost_usd
        );
        """

    /// Version 3, second half: shadow outcomes stored beside the primary's.
    static let createShadowResults = """
        CREATE TABLE IF NOT EXISTS shadow_results (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            ts_ms INTEGER NOT NULL,
            request_id TEXT,
            task TEXT,
            primary_model TEXT,
            primary_success INTEGER,
            primary_error_type TEXT,
            primary_latency_ms INTEGER,
            primary_input_tokens INTEGER,
            primary_output_tokens INTEGER,
            primary_cost_usd REAL,
            primary_output_length INTEGER,
            shadow_model TEXT,
            shadow_success INTEGER,
            shadow_error_type TEXT,
            shadow_latency_ms INTEGER,
            shadow_input_tokens INTEGER,
            shadow_output_tokens INTEGER,
            shadow_cost_usd REAL,
            shadow_output_length INTEGER,
            similarity REAL
        );
        CREATE INDEX IF NOT EXISTS shadow_results_ts ON shadow_results (ts_ms);
        """

    /// The version this build writes.
    public static var currentVersion: Int { migrations.last?.version ?? 0 }

    /// The INSERT the call log prepares once: every column but `id`, in ``columns`` order.
    static let insertSQL = insert(into: "model_calls", columns: columns)

    /// The INSERT for ``CallLog/recordShadow(_:)``: every column of `shadow_results` but `id`, in ``shadowColumns`` order.
    static let insertShadowSQL = insert(into: "shadow_results", columns: shadowColumns)

    private static func insert(into table: String, columns: [String]) -> String {
        let names = columns.dropFirst()
        let marks = names.map { _ in "?" }.joined(separator: ", ")
        return "INSERT INTO \(table) (\(names.joined(separator: ", "))) VALUES (\(marks))"
    }

    /// Sets the pragmas (WAL, `synchronous=NORMAL`) and migrates the file to ``currentVersion``.
    /// - Returns: the version the file had before.
    /// - Throws: `.schema` when the file is newer than this build, or the SQLite error of a failed step.
    @discardableResult
    public static func apply(to db: SQLiteConnection) throws(StoreError) -> Int {
        let mode = try db.scalarText("PRAGMA journal_mode=WAL")
        if mode?.lowercased() != "wal" && db.path != ":memory:" && !db.path.isEmpty {
            throw .step(code: SQLITE_ERROR, message: "could not switch journal_mode to WAL (got \(mode ?? "nothing"))")
        }
        try db.exec("PRAGMA synchronous=NORMAL")
        let before = try userVersion(of: db)
        guard before <= currentVersion else {
            throw .schema(version: before, message: "database schema is newer than this fallbackd (knows up to \(currentVersion))")
        }
        for migration in migrations where migration.version > before {
            try db.transaction(.immediate) { () throws(StoreError) in
                try db.exec(migration.sql)
                try db.exec("PRAGMA user_version = \(migration.version)")
            }
        }
        return before
    }

    /// The file's `PRAGMA user_version`.
    public static func userVersion(of db: SQLiteConnection) throws(StoreError) -> Int {
        Int(try db.scalarInt("PRAGMA user_version") ?? 0)
    }
}
