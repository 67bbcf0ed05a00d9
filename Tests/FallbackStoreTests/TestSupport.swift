import FallbackCore
import Foundation
import Logging
import Synchronization

@testable import FallbackStore

/// A fresh directory under the system temp dir; call `remove()` when done.
struct TempDir {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("fallbackstore-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// Path of a file inside the directory.
    func path(_ name: String = "calls.sqlite") -> String { url.appendingPathComponent(name).path }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// Collects log events so tests can check levels and metadata.
final class LogCapture: Sendable {
    private let events = Mutex<[LogEvent]>([])

    var logger: Logger {
        Logger(label: "fallbackstore.test") { _ in Handler(capture: self) }
    }

    var all: [LogEvent] { events.withLock { $0 } }

    func at(_ level: Logger.Level) -> [LogEvent] { all.filter { $0.level == level } }

    fileprivate func append(_ event: LogEvent) { events.withLock { $0.append(event) } }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        var metadataProvider: Logger.MetadataProvider?

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) { capture.append(event) }
    }
}

/// An attempt with distinguishable fields; `index` goes into the request id and attempt index.
func attempt(
    _ index: Int, model: String = "gpt-4o", success: Bool = true, at millis: Int64 = 1_795_564_741_123,
    errorType: ErrorType? = nil, httpStatus: Int? = 200, metadata: String? = nil
) -> AttemptRecord {
    AttemptRecord(
        requestID: "r-\(index)", task: "default", chain: "default", model: model, provider: "openai",
        attemptIndex: index % 3, startedAtMillis: millis + Int64(index), latencyMs: Int64(10 + index),
        success: success, errorType: errorType, httpStatus: httpStatus,
        usage: Usage(inputTokens: index, outputTokens: 2 * index), costUSD: Double(index) / 1000,
        metadataJSON: metadata)
}

/// Request ids of every row in insertion (id) order.
func requestIDsInOrder(_ path: String) throws -> [String] {
    let reader = try CallLogReader(path: path)
    return try reader.recent(limit: Int.max).reversed().map(\.requestID)
}

/// The `detail` lines of `EXPLAIN QUERY PLAN sql` (parameters unbound: the plan does not depend on them).
func planDetails(_ sql: String, on db: SQLiteConnection) throws -> [String] {
    let plan = try db.prepare("EXPLAIN QUERY PLAN " + sql)
    var details: [String] = []
    while try plan.step() { details.append(plan.text(at: 3) ?? "") }
    return details
}

/// One side of a shadow comparison with the figures a report reads.
func side(
    _ model: String, success: Bool = true, latency: Int64 = 100, cost: Double = 0.5, tokens: (Int, Int) = (10, 20),
    length: Int = 42
) -> ShadowSide {
    ShadowSide(
        model: model, success: success, errorType: success ? nil : .serverError, latencyMs: latency,
        usage: Usage(inputTokens: tokens.0, outputTokens: tokens.1), costUSD: cost, outputLength: success ? length : 0)
}
