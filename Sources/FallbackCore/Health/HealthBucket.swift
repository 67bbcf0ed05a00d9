/// One bucket of a model's health window: what the counted calls that ended in it add up to.
/// Persisted as is (wall-clock start), so a restart keeps the recent past.
public struct HealthBucket: Sendable, Hashable {
    /// Wall-clock start of the bucket, a multiple of the policy's bucket width.
    public var startUnixMillis: Int64
    /// Counted calls (outcomes that reflect the model's health).
    public var calls: Int
    /// Of those, the successful ones.
    public var successes: Int
    /// Sum of the calls' latencies, for an exact average.
    public var latencySumMs: Int64
    /// The calls' latencies, binned, for percentile estimates.
    public var histogram: LatencyHistogram

    public init(
        startUnixMillis: Int64, calls: Int = 0, successes: Int = 0, latencySumMs: Int64 = 0,
        histogram: LatencyHistogram = LatencyHistogram()
    ) {
        self.startUnixMillis = startUnixMillis
        self.calls = calls
        self.successes = successes
        self.latencySumMs = latencySumMs
        self.histogram = histogram
    }

    /// Counts one call (the caller has already excluded outcomes that do not reflect health).
    mutating func add(_ outcome: CallOutcome) {
        let latency = max(0, outcome.latencyMs)
        calls += 1
        if outcome.success { successes += 1 }
        latencySumMs = saturatingSum(latencySumMs, latency)
        histogram.add(latency)
    }

    /// Adds another bucket's counts to this one (the start stays this bucket's).
    /// Inconsistent persisted counts are clamped: `0 <= successes <= calls`, sums never negative.
    mutating func merge(_ other: HealthBucket) {
        let otherCalls = max(0, other.calls)
        calls += otherCalls
        successes += min(otherCalls, max(0, other.successes))
        latencySumMs = saturatingSum(latencySumMs, max(0, other.latencySumMs))
        histogram.merge(other.histogram)
    }
}

/// A model's health over one window, as the `health` method shows it.
public struct HealthStats: Sendable, Hashable {
    /// The window the numbers cover, in minutes.
    public var windowMinutes: Int
    /// Counted calls in the window.
    public var calls: Int
    public var successes: Int
    /// `successes / calls`; 1.0 when there were no calls.
    public var successRate: Double
    /// Exact mean latency over the calls (0 when there were none).
    public var avgLatencyMs: Double
    /// Percentile estimates, within `LatencyHistogram.maxRelativeError` (0 when there were no calls).
    public var p50LatencyMs: Int64
    public var p95LatencyMs: Int64
    public var p99LatencyMs: Int64
    /// `calls >= minimumCalls && successRate < degradedBelow`.
    public var degraded: Bool

    public init(
        windowMinutes: Int, calls: Int, successes: Int, successRate: Double, avgLatencyMs: Double,
        p50LatencyMs: Int64, p95LatencyMs: Int64, p99LatencyMs: Int64, degraded: Bool
    ) {
        self.windowMinutes = windowMinutes
        self.calls = calls
        self.successes = successes
        self.successRate = successRate
        self.avgLatencyMs = avgLatencyMs
        self.p50LatencyMs = p50LatencyMs
        self.p95LatencyMs = p95LatencyMs
        self.p99LatencyMs = p99LatencyMs
        self.degraded = degraded
    }

    /// The stats of `total` (the merged buckets of a window) judged by `policy`.
    init(windowMinutes: Int, total: HealthBucket, policy: HealthPolicy) {
        let rate = total.calls > 0 ? Double(total.successes) / Double(total.calls) : 1.0
        self.init(
            windowMinutes: windowMinutes, calls: total.calls, successes: total.successes, successRate: rate,
            avgLatencyMs: total.calls > 0 ? Double(total.latencySumMs) / Double(total.calls) : 0,
            p50LatencyMs: total.histogram.percentile(0.50), p95LatencyMs: total.histogram.percentile(0.95),
            p99LatencyMs: total.histogram.percentile(0.99),
            degraded: Self.isDegraded(calls: total.calls, successes: total.successes, policy: policy))
    }

    /// The `degraded` rule: enough calls to judge, and a success rate below the threshold.
    static func isDegraded(calls: Int, successes: Int, policy: HealthPolicy) -> Bool {
        guard calls > 0, calls >= policy.minimumCalls else { return false }
        return Double(successes) / Double(calls) < policy.degradedBelow
    }
}

func saturatingSum(_ lhs: Int64, _ rhs: Int64) -> Int64 {
    let (sum, overflow) = lhs.addingReportingOverflow(rhs)
    return overflow ? .max : sum
}
