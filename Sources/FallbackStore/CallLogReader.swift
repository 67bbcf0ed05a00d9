import FallbackCore

/// One `model_calls` row, every column.
///
/// Columns fallbackd always writes are non-optional (a NULL from a hand-made row reads as `""` or 0);
/// `errorType`, `httpStatus` and `metadataJSON` are `nil` when NULL.
public struct CallRow: Sendable, Hashable {
    /// Row id (AUTOINCREMENT: insertion order).
    public var id: Int64
    /// ISO-8601 UTC with milliseconds, `2026-11-24T23:59:01.123Z`.
    public var timestamp: String
    /// Pool name of the model.
    public var modelName: String
    /// Whether the attempt produced a usable answer.
    public var success: Bool
    /// Attempt latency in milliseconds.
    public var latencyMs: Int64
    /// The `ErrorType` raw value as stored; see ``errorKind``.
    public var errorType: String?
    /// Attempt start, milliseconds since the Unix epoch.
    public var tsMillis: Int64
    /// The daemon's request id (`r-...`).
    public var requestID: String
    /// The task the caller asked for.
    public var task: String
    /// The chain that ran (`explicit` for a caller's own list).
    public var chain: String
    /// The `[providers.NAME]` entry that served the attempt.
    public var provider: String
    /// 0 for the first attempt of a request.
    public var attemptIndex: Int
    /// The provider's HTTP status, `nil` when there was none (timeout, connection error).
    public var httpStatus: Int?
    /// Tokens billed for the prompt.
    public var inputTokens: Int
    /// Tokens billed for the completion.
    public var outputTokens: Int
    /// Cost of the attempt in US dollars.
    public var costUSD: Double
    /// The caller's metadata object as JSON text.
    public var metadataJSON: String?
    /// Whether this attempt served its request (successful and not a shadow call).
    public var served: Bool
    /// On the serving attempt: models of the configured chain passed over; `nil` on other attempts.
    public var fallbackCount: Int?
    /// On the serving attempt: what the chain's primary would have cost for the same tokens; `nil` otherwise.
    public var primaryCostUSD: Double?
    /// A shadow call (sampled traffic on a backup model), not part of the caller's request.
    public var shadow: Bool
    /// Input tokens read from the prompt cache.
    public var cachedInputTokens: Int = 0
    /// Input tokens written to the prompt cache.
    public var cacheWriteTokens: Int = 0
    /// Output tokens spent reasoning.
    public var reasoningTokens: Int = 0

    /// ``errorType`` parsed, `nil` when NULL or unknown.
    public var errorKind: ErrorType? { errorType.flatMap(ErrorType.init(rawValue:)) }
}

/// One model's health over a window: the seed's `get_model_health` entry.
public struct ModelHealthRow: Sendable, Hashable {
    /// Pool name of the model.
    public var modelName: String
    /// Calls in the window (the seed's `total_calls`).
    public var totalCalls: Int
    /// Successful calls in the window.
    public var successes: Int
    /// `successes / totalCalls`, rounded half-to-even to 3 places like Python's `round(x, 3)`.
    public var successRate: Double
    /// Mean latency, rounded half-to-even to a whole millisecond like Python's `round(x)`.
    public var avgLatencyMs: Int64
    /// The unrounded success rate is below 0.8 (as in the seed).
    public var degraded: Bool

    /// Builds a row (for fakes and tests; ``CallLogReader/modelHealth(windowMinutes:nowMillis:)`` fills it from SQL).
    public init(modelName: String, totalCalls: Int, successes: Int, successRate: Double, avgLatencyMs: Int64, degraded: Bool) {
        self.modelName = modelName
        self.totalCalls = totalCalls
        self.successes = successes
        self.successRate = successRate
        self.avgLatencyMs = avgLatencyMs
        self.degraded = degraded
    }
}

/// Reads the call log through its own connection (WAL lets it read while the ``CallLog`` writes).
/// Not `Sendable`: use one reader per task or queue.
public final class CallLogReader {
    private let connection: SQLiteConnection
    private static let selectColumns = CallLogSchema.columns.joined(separator: ", ")

    /// Opens the database at `path` read-only. The file must exist (open a ``CallLog`` first).
    public init(path: String, busyTimeoutMs: Int32 = 5_000) throws(StoreError) {
        connection = try SQLiteConnection(path: path, readOnly: true, busyTimeoutMs: busyTimeoutMs)
    }

    /// Every attempt of one request, in attempt order.
    public func rows(requestID: String) throws(StoreError) -> [CallRow] {
        let statement = try connection.prepare(
            "SELECT \(Self.selectColumns) FROM model_calls WHERE request_id = ? ORDER BY attempt_index, id")
        try statement.bind(requestID, at: 1)
        return try Self.collect(statement)
    }

    /// The latest `limit` rows, newest first.
    public func recent(limit: Int) throws(StoreError) -> [CallRow] {
        let statement = try connection.prepare("SELECT \(Self.selectColumns) FROM model_calls ORDER BY id DESC LIMIT ?")
        try statement.bind(Swift.max(0, limit), at: 1)
        return try Self.collect(statement)
    }

    /// Number of rows in `model_calls`.
    public func count() throws(StoreError) -> Int {
        Int(try connection.scalarInt("SELECT COUNT(*) FROM model_calls") ?? 0)
    }

    /// Per-model health over the `windowMinutes` before `nowMillis` (rows with `ts_ms > nowMillis - window`),
    /// as the seed's `get_model_health`: total, successes, success rate, mean latency, degraded below 0.8.
    public func modelHealth(windowMinutes: Int, nowMillis: Int64) throws(StoreError) -> [String: ModelHealthRow] {
        let statement = try connection.prepare("""
            SELECT model_name, COUNT(*), COALESCE(SUM(success), 0), AVG(latency_ms)
            FROM model_calls WHERE ts_ms > ? GROUP BY model_name
            """)
        try statement.bind(nowMillis - Int64(windowMinutes) * 60_000, at: 1)
        var health: [String: ModelHealthRow] = [:]
        while try statement.step() {
            let name = statement.text(at: 0) ?? ""
            let total = Int(statement.int64(at: 1))
            let successes = Int(statement.int64(at: 2))
            let rate = total > 0 ? Double(successes) / Double(total) : 1.0
            let rounded = (rate * 1_000).rounded(.toNearestOrEven) / 1_000
            let latency = statement.doubleOrNil(at: 3) ?? 0
            health[name] = ModelHealthRow(
                modelName: name, totalCalls: total, successes: successes, successRate: rounded,
                avgLatencyMs: Int64(latency.rounded(.toNearestOrEven)), degraded: rate < 0.8)
        }
        return health
    }

    /// Closes the reader's connection; later reads fail with `.closed`.
    public func close() {
        connection.close()
    }

    private static func collect(_ statement: SQLiteStatement) throws(StoreError) -> [CallRow] {
        var rows: [CallRow] = []
        while try statement.step() {
            rows.append(CallRow(
                id: statement.int64(at: 0),
                timestamp: statement.text(at: 1) ?? "",
                modelName: statement.text(at: 2) ?? "",
                success: statement.int64(at: 3) != 0,
                latencyMs: statement.int64(at: 4),
                errorType: statement.text(at: 5),
                tsMillis: statement.int64(at: 6),
                requestID: statement.text(at: 7) ?? "",
                task: statement.text(at: 8) ?? "",
                chain: statement.text(at: 9) ?? "",
                provider: statement.text(at: 10) ?? "",
                attemptIndex: Int(statement.int64(at: 11)),
                httpStatus: statement.int64OrNil(at: 12).map { Int($0) },
                inputTokens: Int(statement.int64(at: 13)),
                outputTokens: Int(statement.int64(at: 14)),
                costUSD: statement.double(at: 15),
                metadataJSON: statement.text(at: 16),
                served: statement.int64(at: 17) != 0,
                fallbackCount: statement.int64OrNil(at: 18).map { Int($0) },
                primaryCostUSD: statement.doubleOrNil(at: 19),
                shadow: statement.int64(at: 20) != 0,
                cachedInputTokens: Int(statement.int64(at: 21)),
                cacheWriteTokens: Int(statement.int64(at: 22)),
                reasoningTokens: Int(statement.int64(at: 23))))
        }
        return rows
    }
}
