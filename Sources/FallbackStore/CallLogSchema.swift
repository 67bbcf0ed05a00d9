import CSQLite

/// The store's schema: the `model_calls` call log, its indexes, the pragmas, and versioned migrations.
///
/// The version lives in `PRAGMA user_version`. Each entry of ``migrations`` brings the file from
/// `version - 1` to `version` inside one transaction; later issues append entries (breaker state,
/// health buckets, shadow results) and bump nothing else.
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
    ]

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

    /// The version this build writes.
    public static var currentVersion: Int { migrations.last?.version ?? 0 }

    /// The INSERT the call log prepares once: every column but `id`, in ``columns`` order.
    static let insertSQL: String = {
        let names = columns.dropFirst()
        let marks = names.map { _ in "?" }.joined(separator: ", ")
        return "INSERT INTO model_calls (\(names.joined(separator: ", "))) VALUES (\(marks))"
    }()

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
