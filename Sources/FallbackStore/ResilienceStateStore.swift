import Dispatch
import FallbackCore
import Logging

/// Breaker states and health buckets as last saved: what the resilience engine restores at start.
public struct ResilienceState: Sendable {
    public var breakers: [String: BreakerSnapshot] = [:]
    public var health: [String: [HealthBucket]] = [:]

    public init(breakers: [String: BreakerSnapshot] = [:], health: [String: [HealthBucket]] = [:]) {
        self.breakers = breakers
        self.health = health
    }
}

/// Saves and loads `breaker_state` and `health_buckets` (schema version 2) with its own connection,
/// on its own serial queue, never on the cooperative pool or a request's path.
public final class ResilienceStateStore: Sendable {
    public let path: String
    private let queue = DispatchQueue(label: "fallbackd.state.writer")
    // Touched only on `queue`.
    private nonisolated(unsafe) let connection: SQLiteConnection
    private let logger: Logger

    /// Opens the database; the schema must already be applied (a `CallLog` on the same path does it).
    public init(path: String, logger: Logger, busyTimeoutMs: Int32 = 5_000) throws(StoreError) {
        self.path = path
        self.logger = logger
        connection = try SQLiteConnection(path: path, busyTimeoutMs: busyTimeoutMs)
        try CallLogSchema.apply(to: connection)
    }

    /// Replaces the saved state with `state` in one transaction. Failures are logged and returned, never thrown.
    @discardableResult
    public func save(_ state: ResilienceState, nowMillis: Int64) async -> StoreError? {
        await withCheckedContinuation { continuation in
            queue.async {
                let error = Result { () throws(StoreError) in try self.write(state, nowMillis: nowMillis) }
                if case .failure(let failure) = error {
                    self.logger.error(
                        "saving breaker and health state failed; will retry next flush",
                        metadata: ["store.path": "\(self.path)", "store.error": "\(failure)"]
                    )
                    continuation.resume(returning: failure)
                } else {
                    continuation.resume(returning: nil)
                }
            }
        }
    }

    /// Reads the saved state (empty on a new database).
    public func load() throws(StoreError) -> ResilienceState {
        let result = queue.sync { Result { () throws(StoreError) -> ResilienceState in try self.read() } }
        return try result.get()
    }

    /// Closes the connection.
    public func close() {
        queue.sync { connection.close() }
    }

    private func write(_ state: ResilienceState, nowMillis: Int64) throws(StoreError) {
        try connection.transaction(.immediate) { () throws(StoreError) in
            try connection.exec("DELETE FROM breaker_state; DELETE FROM health_buckets;")
            let breaker = try connection.prepare(
                """
                INSERT INTO breaker_state (model_name, phase, open_until_ms, level, trips, consecutive_failures,
                    misconfigured, last_failure_ms, closed_since_ms, last_trip_reason, window, updated_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
            )
            for (model, snapshot) in state.breakers {
                breaker.reset()
                try breaker.bind(model, at: 1)
                try breaker.bind(snapshot.phase.rawValue, at: 2)
                try breaker.bind(snapshot.openUntilUnixMillis, at: 3)
                try breaker.bind(snapshot.level, at: 4)
                try breaker.bind(snapshot.trips, at: 5)
                try breaker.bind(snapshot.consecutiveFailures, at: 6)
                try breaker.bind(snapshot.misconfigured ? 1 : 0, at: 7)
                try breaker.bind(snapshot.lastFailureUnixMillis, at: 8)
                try breaker.bind(snapshot.closedSinceUnixMillis, at: 9)
                try breaker.bind(snapshot.lastTripReason, at: 10)
                try breaker.bind(String(decoding: snapshot.window.map { $0 + UInt8(ascii: "0") }, as: UTF8.self), at: 11)
                try breaker.bind(nowMillis, at: 12)
                try breaker.step()
            }
            let bucket = try connection.prepare(
                """
                INSERT INTO health_buckets (model_name, bucket_start_ms, calls, successes, latency_sum_ms, histogram)
                VALUES (?, ?, ?, ?, ?, ?)
                """
            )
            for (model, buckets) in state.health {
                for entry in buckets {
                    bucket.reset()
                    try bucket.bind(model, at: 1)
                    try bucket.bind(entry.startUnixMillis, at: 2)
                    try bucket.bind(entry.calls, at: 3)
                    try bucket.bind(entry.successes, at: 4)
                    try bucket.bind(entry.latencySumMs, at: 5)
                    try bucket.bind(Self.encode(entry.histogram), at: 6)
                    try bucket.step()
                }
            }
        }
    }

    private func read() throws(StoreError) -> ResilienceState {
        var state = ResilienceState()
        let breakers = try connection.prepare(
            """
            SELECT model_name, phase, open_until_ms, level, trips, consecutive_failures, misconfigured,
                last_failure_ms, closed_since_ms, last_trip_reason, window FROM breaker_state
            """
        )
        while try breakers.step() {
            guard let model = breakers.text(at: 0), let phase = breakers.text(at: 1).flatMap(BreakerPhase.init(rawValue:)) else {
                continue
            }
            let window = Array((breakers.text(at: 10) ?? "").utf8).compactMap { byte -> UInt8? in
                (UInt8(ascii: "0")...UInt8(ascii: "3")).contains(byte) ? byte - UInt8(ascii: "0") : nil
            }
            state.breakers[model] = BreakerSnapshot(
                phase: phase, openUntilUnixMillis: breakers.int64OrNil(at: 2), level: Int(breakers.int64(at: 3)),
                trips: Int(breakers.int64(at: 4)), consecutiveFailures: Int(breakers.int64(at: 5)),
                misconfigured: breakers.int64(at: 6) != 0, lastFailureUnixMillis: breakers.int64OrNil(at: 7),
                closedSinceUnixMillis: breakers.int64OrNil(at: 8), lastTripReason: breakers.text(at: 9), window: window
            )
        }
        let buckets = try connection.prepare(
            "SELECT model_name, bucket_start_ms, calls, successes, latency_sum_ms, histogram FROM health_buckets ORDER BY bucket_start_ms"
        )
        while try buckets.step() {
            guard let model = buckets.text(at: 0) else { continue }
            state.health[model, default: []].append(
                HealthBucket(
                    startUnixMillis: buckets.int64(at: 1), calls: Int(buckets.int64(at: 2)),
                    successes: Int(buckets.int64(at: 3)), latencySumMs: buckets.int64(at: 4),
                    histogram: Self.decode(buckets.text(at: 5) ?? "")
                )
            )
        }
        return state
    }

    /// Non-empty bins as `index:count` pairs: compact, and readable with the sqlite3 shell.
    static func encode(_ histogram: LatencyHistogram) -> String {
        histogram.bins.enumerated().filter { $0.element > 0 }.map { "\($0.offset):\($0.element)" }.joined(separator: ",")
    }

    static func decode(_ text: String) -> LatencyHistogram {
        var bins = [UInt32](repeating: 0, count: LatencyHistogram.binCount)
        for pair in text.split(separator: ",") {
            let parts = pair.split(separator: ":")
            guard parts.count == 2, let index = Int(parts[0]), let count = UInt32(parts[1]), bins.indices.contains(index) else {
                continue
            }
            bins[index] = count
        }
        return LatencyHistogram(bins: bins)
    }
}
