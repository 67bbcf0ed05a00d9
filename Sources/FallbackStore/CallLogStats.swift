/// Counters of a ``CallLog``, read at one instant.
public struct CallLogStats: Sendable, Hashable {
    /// Rows recorded but not yet written (including rows kept back by failed flushes).
    public var pendingCount: Int
    /// Rows written to SQLite since the log opened.
    public var writtenCount: Int
    /// Flushes whose transaction failed (their rows were kept for the next flush).
    public var failedFlushes: Int
    /// Rows (attempts and shadow results) dropped, oldest first, because more than `maxPending` were waiting.
    public var droppedRows: Int
    /// The error of the latest failed flush; `nil` until one fails (a later success does not clear it).
    public var lastError: StoreError?
    /// Whether the most recent flush that had rows to write failed (the store is not taking writes).
    public var lastFlushFailed: Bool
    /// When the oldest attempt still waiting to be written ended (Unix ms); `nil` when none waits.
    public var oldestPendingEndedAtMillis: Int64?
    /// Shadow results recorded but not yet written (including those kept back by failed flushes).
    public var pendingShadowCount: Int
    /// Shadow results written to SQLite since the log opened.
    public var writtenShadowCount: Int

    /// Builds a snapshot (the log builds its own; this is for fakes and comparisons).
    public init(
        pendingCount: Int = 0, writtenCount: Int = 0, failedFlushes: Int = 0, droppedRows: Int = 0, lastError: StoreError? = nil,
        pendingShadowCount: Int = 0, writtenShadowCount: Int = 0, lastFlushFailed: Bool = false,
        oldestPendingEndedAtMillis: Int64? = nil
    ) {
        self.lastFlushFailed = lastFlushFailed
        self.oldestPendingEndedAtMillis = oldestPendingEndedAtMillis
        self.pendingCount = pendingCount
        self.writtenCount = writtenCount
        self.failedFlushes = failedFlushes
        self.droppedRows = droppedRows
        self.lastError = lastError
        self.pendingShadowCount = pendingShadowCount
        self.writtenShadowCount = writtenShadowCount
    }
}

/// What one ``CallLog/flush()`` did.
public struct FlushReport: Sendable, Hashable {
    /// Attempt rows committed by this flush (0 when it failed: the transaction is all or nothing).
    public var written: Int
    /// Attempt rows still waiting after this flush (rows recorded meanwhile, plus the batch when it failed).
    public var pending: Int
    /// Why the flush failed; `nil` on success (including when there was nothing to write).
    public var error: StoreError?
    /// Wall time spent writing, in microseconds.
    public var durationMicros: Int64
    /// Shadow results committed by this flush (in the same transaction as the attempts).
    public var writtenShadows: Int
    /// Shadow results still waiting after this flush.
    public var pendingShadows: Int

    /// Builds a report (the log builds its own; this is for fakes and comparisons).
    public init(
        written: Int, pending: Int, error: StoreError?, durationMicros: Int64, writtenShadows: Int = 0, pendingShadows: Int = 0
    ) {
        self.written = written
        self.pending = pending
        self.error = error
        self.durationMicros = durationMicros
        self.writtenShadows = writtenShadows
        self.pendingShadows = pendingShadows
    }

    /// Whether the flush committed everything it took (or had nothing to do).
    public var succeeded: Bool { error == nil }
}
