import FallbackCore

/// Binds the call log's rows to the INSERTs of ``CallLogSchema``, in column order (without `id`).
///
/// Kept apart from ``CallLog`` so the writer, the tests' data generator and any bulk importer
/// produce byte-identical rows.
enum CallLogBinder {
    /// Binds `row` in ``CallLogSchema/columns`` order (without `id`) to ``CallLogSchema/insertSQL``.
    static func bind(_ row: AttemptRecord, to insert: SQLiteStatement) throws(StoreError) {
        try insert.bind(ISOTimestamp.string(unixMillis: row.startedAtMillis), at: 1)
        try insert.bind(row.model, at: 2)
        try insert.bind(flag(row.success), at: 3)
        try insert.bind(row.latencyMs, at: 4)
        try insert.bind(row.errorType?.rawValue, at: 5)
        try insert.bind(row.startedAtMillis, at: 6)
        try insert.bind(row.requestID, at: 7)
        try insert.bind(row.task, at: 8)
        try insert.bind(row.chain, at: 9)
        try insert.bind(row.provider, at: 10)
        try insert.bind(row.attemptIndex, at: 11)
        try insert.bind(row.httpStatus, at: 12)
        try insert.bind(row.usage.inputTokens, at: 13)
        try insert.bind(row.usage.outputTokens, at: 14)
        try insert.bind(row.costUSD, at: 15)
        try insert.bind(row.metadataJSON, at: 16)
        try insert.bind(flag(row.served), at: 17)
        try insert.bind(row.fallbackCount, at: 18)
        try insert.bind(row.primaryCostUSD, at: 19)
        try insert.bind(flag(row.shadow), at: 20)
        try insert.bind(row.usage.cachedInputTokens, at: 21)
        try insert.bind(row.usage.cacheWriteTokens, at: 22)
        try insert.bind(row.usage.reasoningTokens, at: 23)
        try insert.bind(row.app, at: 24)
        try insert.bind(flag(row.hedged), at: 25)
    }

    /// Binds `result` in ``CallLogSchema/shadowColumns`` order (without `id`) to ``CallLogSchema/insertShadowSQL``.
    static func bind(_ result: ShadowResult, to insert: SQLiteStatement) throws(StoreError) {
        try insert.bind(result.startedAtMillis, at: 1)
        try insert.bind(result.requestID, at: 2)
        try insert.bind(result.task, at: 3)
        try bind(result.primary, to: insert, from: 4)
        try bind(result.shadow, to: insert, from: 12)
        try insert.bind(result.similarity, at: 20)
    }

    /// Binds one side's eight columns (`model` ... `output_length`) starting at parameter `first`.
    private static func bind(_ side: ShadowSide, to insert: SQLiteStatement, from first: Int32) throws(StoreError) {
        try insert.bind(side.model, at: first)
        try insert.bind(flag(side.success), at: first + 1)
        try insert.bind(side.errorType?.rawValue, at: first + 2)
        try insert.bind(side.latencyMs, at: first + 3)
        try insert.bind(side.usage.inputTokens, at: first + 4)
        try insert.bind(side.usage.outputTokens, at: first + 5)
        try insert.bind(side.costUSD, at: first + 6)
        try insert.bind(side.outputLength, at: first + 7)
    }

    /// SQLite has no boolean: 1 or 0.
    static func flag(_ value: Bool) -> Int64 { value ? 1 : 0 }
}
