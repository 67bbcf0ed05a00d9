import Synchronization

/// When an attempt is overdue: far past what its model usually takes (a multiple of its median
/// latency over the health window, never below a floor). The median, not a tail percentile: a
/// slowdown's own slow answers would drag a p99 up within a handful of calls and hide it, while
/// the median moves only once most calls are slow, and by then their outrun attempts have tripped
/// the breaker. An overdue first attempt gets the next model beside it
/// whatever the hedge budget (it is no longer a speculative hedge: the call is late), and a
/// recovery probe slower than this does not bring its model back.
///
/// The median is read from the health board at most once per `refreshMs` per model, so the hot
/// path pays a dictionary lookup, not a percentile.
public final class OverdueCalls: Sendable {
    /// Overdue after `multiple` × the model's median latency (0 turns the rule off).
    public let multiple: Double
    /// Never before this many milliseconds.
    public let floorMs: Int64
    static let refreshMs: Int64 = 1_000
    private let cache = Mutex<[String: (at: Moment, limit: Int64?)]>([:])

    public init(multiple: Double = 5, floorMs: Int64 = 1_000) {
        self.multiple = max(0, multiple)
        self.floorMs = max(0, floorMs)
    }

    /// Milliseconds after which a call of `model` is overdue; `nil` when the rule is off or the
    /// model has too few calls in its window to say.
    public func limitMs(_ model: String, health: HealthBoard, at now: Moment) -> Int64? {
        guard multiple > 0 else { return nil }
        if let cached = cache.withLock({ $0[model] }), now.millis(since: cached.at) < Self.refreshMs {
            return cached.limit
        }
        let stats = health.stats(model, windowMinutes: health.policy.reorderWindowMinutes, at: now)
        let limit: Int64? = stats.calls >= health.policy.minimumCalls && stats.p50LatencyMs > 0
            ? max(floorMs, Int64((Double(stats.p50LatencyMs) * multiple).rounded(.up))) : nil
        cache.withLock { $0[model] = (now, limit) }
        return limit
    }
}
