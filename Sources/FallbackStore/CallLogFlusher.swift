import Logging
import ServiceLifecycle

/// Flushes a ``CallLog`` every `interval` until graceful shutdown or cancellation,
/// then flushes one last time and returns.
///
/// Returning from ``run()`` is the normal end at shutdown. A failed flush never throws: the
/// ``CallLog`` logs it, counts it and keeps the rows for the next attempt.
/// In a `ServiceGroup`, configure it with `successTerminationBehavior: .gracefullyShutdownGroup`
/// (or `.ignore`) so its return during shutdown is not treated as an unexpected finish.
public struct CallLogFlusher: Service {
    /// The log to flush.
    public let callLog: CallLog
    /// Time between flushes.
    public let interval: Duration
    /// Reports the final flush; `nil` stays quiet (the ``CallLog`` logs failures either way).
    public let logger: Logger?
    /// Runs after every flush, the final one included: other state saved on the same cadence
    /// (breakers and health windows).
    public let alsoFlush: (@Sendable () async -> Void)?

    /// - Parameters:
    ///   - callLog: the log to flush.
    ///   - interval: time between flushes (the daemon's `flush_interval_ms`).
    ///   - logger: where the final flush is reported at shutdown (`info`, or `error` when rows remain).
    ///   - alsoFlush: saved after each flush of the log.
    public init(
        callLog: CallLog, interval: Duration = .seconds(1), logger: Logger? = nil,
        alsoFlush: (@Sendable () async -> Void)? = nil
    ) {
        self.callLog = callLog
        self.interval = interval
        self.logger = logger
        self.alsoFlush = alsoFlush
    }

    /// Flushes periodically; on graceful shutdown or task cancellation, flushes once more and returns.
    public func run() async {
        let callLog = callLog
        let interval = interval
        let alsoFlush = alsoFlush
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    break
                }
                _ = await callLog.flush()
                await alsoFlush?()
            }
        }
        // The final flush is not cancellable: it runs on the log's own queue and always finishes.
        let report = await callLog.flush()
        await alsoFlush?()
        let metadata: Logger.Metadata = [
            "store.path": "\(callLog.path)", "store.rows": "\(report.written)", "store.shadows": "\(report.writtenShadows)",
            "store.pending": "\(report.pending + report.pendingShadows)",
        ]
        if report.pending + report.pendingShadows > 0 {
            logger?.error("call log final flush left rows unwritten", metadata: metadata)
        } else {
            logger?.info("call log final flush done", metadata: metadata)
        }
    }
}
