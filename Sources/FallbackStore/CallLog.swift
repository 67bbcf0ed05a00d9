import Dispatch
import FallbackCore
import Logging
import Synchronization

/// The call log: every attempt becomes one `model_calls` row, every shadow comparison one `shadow_results` row.
///
/// ``record(_:)`` and ``recordShadow(_:)`` only append to an in-memory buffer under a `Mutex`: it never touches SQLite and
/// never waits on I/O, so a request is never slowed by the disk. ``flush()`` (driven by
/// ``CallLogFlusher``) writes both buffers in one transaction on a private serial queue.
///
/// When a flush fails (disk full, database locked, I/O error) nothing is lost and nothing crashes:
/// the batch (attempts and shadow results alike) goes back to the front of its buffer, in order, for the next flush; the error is
/// logged and counted in ``stats``.
///
/// Memory is bounded by `maxPending` per buffer: when more rows than that are waiting (the disk has been
/// failing for a long time), the **oldest rows are dropped**, counted in ``CallLogStats/droppedRows`` and
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
        var rows = RowQueue<AttemptRecord>()
        var shadows = RowQueue<ShadowResult>()
        var written = 0
        var writtenShadows = 0
        var failedFlushes = 0
        var dropped = 0
        var droppedNotLogged = 0
        var lastError: StoreError?
        var lastFlushFailed = false

        mutating func enforceCap(_ cap: Int) {
            let dropped = rows.dropOldest(rows.count - cap) + shadows.dropOldest(shadows.count - cap)
            self.dropped += dropped
            droppedNotLogged += dropped
        }
    }

    /// The SQLite side; touched only on `queue`.
    private final class Writer: @unchecked Sendable {
        var connection: SQLiteConnection?
        var insert: SQLiteStatement?
        var insertShadow: SQLiteStatement?
    }

    /// Opens (creating if needed) the database at `path` and migrates its schema.
    /// - Parameters:
    ///   - logger: receives flush failures and drops; metadata keys are dotted (`store.path`, `store.rows`, `store.error`).
    ///   - maxPending: the pending-row cap of each buffer (attempts, shadow results); beyond it the oldest rows
    ///     are dropped (at least 1).
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
        writer.insertShadow = try connection.prepare(CallLogSchema.insertShadowSQL)
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

    /// Buffers one shadow comparison, written in the same flush transaction as the attempts. O(1); never blocks on I/O.
    public func recordShadow(_ result: ShadowResult) {
        buffer.withLock { buffer in
            buffer.shadows.append(result)
            buffer.enforceCap(maxPending)
        }
    }

    /// The counters right now.
    public var stats: CallLogStats {
        buffer.withLock {
            CallLogStats(
                pendingCount: $0.rows.count, writtenCount: $0.written, failedFlushes: $0.failedFlushes,
                droppedRows: $0.dropped, lastError: $0.lastError,
                pendingShadowCount: $0.shadows.count, writtenShadowCount: $0.writtenShadows,
                lastFlushFailed: $0.lastFlushFailed,
                oldestPendingEndedAtMillis: $0.rows.oldest.map { $0.startedAtMillis + $0.latencyMs }
            )
        }
    }

    /// Writes every buffered attempt and shadow result in one transaction (one prepared INSERT per table),
    /// on the writer queue.
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
        let (batch, shadows) = buffer.withLock { ($0.rows.takeAll(), $0.shadows.takeAll()) }
        var failure: StoreError?
        if !batch.isEmpty || !shadows.isEmpty {
            do {
                try write(batch, shadows)
            } catch {
                failure = error
            }
        }
        let micros = Self.micros(ContinuousClock.now - start)
        let (pending, pendingShadows, droppedNow, droppedTotal) = buffer.withLock { buffer in
            if let failure {
                buffer.rows.prepend(batch)
                buffer.shadows.prepend(shadows)
                buffer.enforceCap(maxPending)
                buffer.failedFlushes += 1
                buffer.lastError = failure
                buffer.lastFlushFailed = true
            } else {
                if !batch.isEmpty || !shadows.isEmpty { buffer.lastFlushFailed = false }
                buffer.written += batch.count
                buffer.writtenShadows += shadows.count
            }
            let droppedNow = buffer.droppedNotLogged
            buffer.droppedNotLogged = 0
            return (buffer.rows.count, buffer.shadows.count, droppedNow, buffer.dropped)
        }
        if let failure {
            logger.error("call log flush failed; rows kept for the next flush", metadata: [
                "store.path": "\(path)", "store.rows": "\(batch.count)", "store.shadows": "\(shadows.count)",
                "store.pending": "\(pending + pendingShadows)", "store.error": "\(failure)",
            ])
        } else if !batch.isEmpty || !shadows.isEmpty {
            logger.debug("call log flushed", metadata: [
                "store.path": "\(path)", "store.rows": "\(batch.count)", "store.shadows": "\(shadows.count)",
                "store.duration_us": "\(micros)",
            ])
        }
        if droppedNow > 0 {
            logger.error("call log over its pending cap; oldest rows dropped", metadata: [
                "store.path": "\(path)", "store.dropped": "\(droppedNow)", "store.dropped_total": "\(droppedTotal)",
                "store.max_pending": "\(maxPending)",
            ])
        }
        return FlushReport(
            written: failure == nil ? batch.count : 0, pending: pending, error: failure, durationMicros: micros,
            writtenShadows: failure == nil ? shadows.count : 0, pendingShadows: pendingShadows)
    }

    private func write(_ batch: RowQueue<AttemptRecord>, _ shadows: RowQueue<ShadowResult>) throws(StoreError) {
        guard let connection = writer.connection, let insert = writer.insert, let insertShadow = writer.insertShadow else {
            throw .closed
        }
        try connection.transaction(.immediate) { () throws(StoreError) in
            defer {
                insert.reset()
                insertShadow.reset()
            }
            for row in batch {
                insert.reset()
                try CallLogBinder.bind(row, to: insert)
                try insert.step()
            }
            for result in shadows {
                insertShadow.reset()
                try CallLogBinder.bind(result, to: insertShadow)
                try insertShadow.step()
            }
        }
    }

    private func closeOnQueue() {
        dispatchPrecondition(condition: .onQueue(queue))
        guard let connection = writer.connection else { return }
        let (pending, pendingShadows) = buffer.withLock { ($0.rows.count, $0.shadows.count) }
        if pending + pendingShadows > 0 {
            logger.warning("call log closed with unwritten rows", metadata: [
                "store.path": "\(path)", "store.rows": "\(pending)", "store.shadows": "\(pendingShadows)",
            ])
        }
        writer.insert = nil
        writer.insertShadow = nil
        writer.connection = nil
        connection.close()
    }

    private static func micros(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}
