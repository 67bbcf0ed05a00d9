import Dispatch
import FallbackCore
import Logging
import Synchronization

/// The call log: every attempt becomes one `model_calls` row.
///
/// ``record(_:)`` only appends to an in-memory buffer under a `Mutex`: it never touches SQLite and
/// never waits on I/O, so a request is never slowed by the disk. ``flush()`` (driven by
/// ``CallLogFlusher``) writes the buffer in one transaction on a private serial queue.
///
/// When a flush fails (disk full, database locked, I/O error) nothing is lost and nothing crashes:
/// the batch goes back to the front of the buffer, in order, for the next flush; the error is
/// logged and counted in ``stats``.
///
/// Memory is bounded by `maxPending`: when more rows than that are waiting (the disk has been failing
/// for a long time), the **oldest rows are dropped**, counted in ``CallLogStats/droppedRows`` and
/// reported at `error` level by the next flush (never logged from ``record(_:)`` itself).
public final class CallLog: OutcomeRecorder, Sendable {
    /// The database file.
    public let path: String
    /// The most rows kept in memory before the oldest are dropped.
    public let maxPending: Int

    private let logger: Logger
    private let queue: DispatchQueue
    private let buffer: Mutex<Buffer>
    private let writer: Writer

    private struct Buffer: Sendable {
        var rows = RowQueue()
        var written = 0
        var failedFlushes = 0
        var dropped = 0
        var droppedNotLogged = 0
        var lastError: StoreError?

        mutating func enforceCap(_ cap: Int) {
            guard rows.count > cap else { return }
            let dropped = rows.dropOldest(rows.count - cap)
            self.dropped += dropped
            droppedNotLogged += dropped
        }
    }

    /// The SQLite side; touched only on `queue`.
    private final class Writer: @unchecked Sendable {
        var connection: SQLiteConnection?
        var insert: SQLiteStatement?
    }

    /// Opens (creating if needed) the database at `path` and migrates its schema.
    /// - Parameters:
    ///   - logger: receives flush failures and drops; metadata keys are dotted (`store.path`, `store.rows`, `store.error`).
    ///   - maxPending: the pending-row cap; beyond it the oldest rows are dropped (at least 1).
    ///   - busyTimeoutMs: how long a flush waits for another connection's write lock before failing with `.busy`.
    public init(path: String, logger: Logger, maxPending: Int = 2_000_000, busyTimeoutMs: Int32 = 5_000) throws(StoreError) {
        self.path = path
        self.maxPending = max(1, maxPending)
        self.logger = logger
        queue = DispatchQueue(label: "fallbackd.calllog.writer")
        buffer = Mutex(Buffer())
        let connection = try SQLiteConnection(path: path, busyTimeoutMs: busyTimeoutMs)
        let before = try CallLogSchema.apply(to: connection)
        writer = Writer()
        writer.insert = try connection.prepare(CallLogSchema.insertSQL)
        writer.connection = connection
        if before != CallLogSchema.currentVersion {
            logger.info("call log schema migrated", metadata: [
                "store.path": "\(path)", "store.schema_from": "\(before)", "store.schema_to": "\(CallLogSchema.currentVersion)",
            ])
        }
    }

    /// Buffers one attempt. O(1); never blocks on I/O.
    public func record(_ attempt: AttemptRecord) {
        buffer.withLock { buffer in
            buffer.rows.append(attempt)
            buffer.enforceCap(maxPending)
        }
    }

    /// The counters right now.
    public var stats: CallLogStats {
        buffer.withLock {
            CallLogStats(
                pendingCount: $0.rows.count, writtenCount: $0.written, failedFlushes: $0.failedFlushes,
                droppedRows: $0.dropped, lastError: $0.lastError
            )
        }
    }

    /// Writes every buffered row in one transaction with one prepared INSERT, on the writer queue.
    /// Never throws: a failure is logged, counted, and the rows wait for the next flush.
    public func flush() async -> FlushReport {
        await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: self.flushOnQueue())
            }
        }
    }

    /// Closes the database. Call after the final flush; rows still pending are reported and lost.
    /// Later flushes fail with `.closed` and keep their rows. Safe to call twice.
    public func close() async {
        await withCheckedContinuation { continuation in
            queue.async {
                self.closeOnQueue()
                continuation.resume()
            }
        }
    }

    /// Commits made by the writer connection (for tests: one flush is one transaction).
    var commitCount: Int {
        get async {
            await withCheckedContinuation { continuation in
                queue.async { continuation.resume(returning: self.writer.connection?.commitCount ?? 0) }
            }
        }
    }

    private func flushOnQueue() -> FlushReport {
        dispatchPrecondition(condition: .onQueue(queue))
        let start = ContinuousClock.now
        let batch = buffer.withLock { $0.rows.takeAll() }
        var failure: StoreError?
        if !batch.isEmpty {
            do {
                try write(batch)
            } catch {
                failure = error
            }
        }
        let micros = Self.micros(ContinuousClock.now - start)
        let (pending, droppedNow, droppedTotal) = buffer.withLock { buffer in
            if let failure {
                buffer.rows.prepend(batch)
                buffer.enforceCap(maxPending)
                buffer.failedFlushes += 1
                buffer.lastError = failure
            } else {
                buffer.written += batch.count
            }
            let droppedNow = buffer.droppedNotLogged
            buffer.droppedNotLogged = 0
            return (buffer.rows.count, droppedNow, buffer.dropped)
        }
        if let failure {
            logger.error("call log flush failed; rows kept for the next flush", metadata: [
                "store.path": "\(path)", "store.rows": "\(batch.count)", "store.pending": "\(pending)",
                "store.error": "\(failure)",
            ])
        } else if !batch.isEmpty {
            logger.debug("call log flushed", metadata: [
                "store.path": "\(path)", "store.rows": "\(batch.count)", "store.duration_us": "\(micros)",
            ])
        }
        if droppedNow > 0 {
            logger.error("call log over its pending cap; oldest rows dropped", metadata: [
                "store.path": "\(path)", "store.dropped": "\(droppedNow)", "store.dropped_total": "\(droppedTotal)",
                "store.max_pending": "\(maxPending)",
            ])
        }
        return FlushReport(written: failure == nil ? batch.count : 0, pending: pending, error: failure, durationMicros: micros)
    }

    private func write(_ batch: RowQueue) throws(StoreError) {
        guard let connection = writer.connection, let insert = writer.insert else { throw .closed }
        try connection.transaction(.immediate) { () throws(StoreError) in
            defer { insert.reset() }
            for row in batch {
                insert.reset()
                try Self.bind(row, to: insert)
                try insert.step()
            }
        }
    }

    /// Binds `row` in ``CallLogSchema/columns`` order (without `id`).
    static func bind(_ row: AttemptRecord, to insert: SQLiteStatement) throws(StoreError) {
        try insert.bind(ISOTimestamp.string(unixMillis: row.startedAtMillis), at: 1)
        try insert.bind(row.model, at: 2)
        try insert.bind(Int64(row.success ? 1 : 0), at: 3)
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
    }

    private func closeOnQueue() {
        dispatchPrecondition(condition: .onQueue(queue))
        guard let connection = writer.connection else { return }
        let pending = buffer.withLock { $0.rows.count }
        if pending > 0 {
            logger.warning("call log closed with unwritten rows", metadata: ["store.path": "\(path)", "store.rows": "\(pending)"])
        }
        writer.insert = nil
        writer.connection = nil
        connection.close()
    }

    private static func micros(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}
