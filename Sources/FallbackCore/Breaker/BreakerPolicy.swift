/// When a model's circuit breaker trips, and for how long it stays open.
///
/// Three trip rules, any of which opens the breaker while it is closed:
/// - `consecutiveFailures` failures in a row (the seed's rule);
/// - a failure rate at or above `failureRateThreshold` over the last `windowSize` counted calls,
///   once at least `minimumCalls` of them are in the window;
/// - a slow-call rate at or above `slowCallRateThreshold` over the same window, when `slowCallMs` is set.
///
/// An `auth` failure opens the breaker at once for `authOpenMs`, whatever the rules say.
public struct BreakerPolicy: Sendable, Hashable {
    /// Failures in a row that trip the breaker; 0 disables this rule. The seed's 3.
    public var consecutiveFailures: Int
    /// Trip when the failure rate over the window is at or above this; `nil` disables the rule.
    public var failureRateThreshold: Double?
    /// How many of the most recent counted calls the window holds (a ring buffer: constant memory).
    public var windowSize: Int
    /// The rate rules only apply once the window holds at least this many calls (capped at `windowSize`).
    public var minimumCalls: Int
    /// A call slower than this (strictly) counts as slow, success or not; `nil` disables the slow-call rule.
    public var slowCallMs: Int64?
    /// Trip when the slow-call rate over the window is at or above this (`minimumCalls` applies).
    public var slowCallRateThreshold: Double
    /// How long the first trip opens the breaker. The seed's 5 minutes.
    public var openMs: Int64
    /// The cap on growing open durations.
    public var maxOpenMs: Int64
    /// Each re-trip multiplies the open duration by this.
    public var backoffMultiplier: Double
    /// How many probe permits half-open hands out at a time.
    public var halfOpenProbes: Int
    /// How long an `auth` failure opens the breaker (flagged misconfigured).
    public var authOpenMs: Int64
    /// Trip when the share of timeouts over the window (calls that timed out, and calls still out
    /// past `hangAfterMs`) is at or above this (`minimumCalls` applies); `nil` disables the rule.
    public var timeoutRateThreshold: Double?
    /// A call still outstanding this long counts as a timeout at once, while it is still running,
    /// so hanging calls trip the breaker before they end; `nil` waits for calls to end.
    public var hangAfterMs: Int64?

    /// A policy; every argument defaults to the value documented on its property.
    public init(
        consecutiveFailures: Int = 3,
        failureRateThreshold: Double? = 0.5,
        windowSize: Int = 20,
        minimumCalls: Int = 10,
        slowCallMs: Int64? = nil,
        slowCallRateThreshold: Double = 1.0,
        openMs: Int64 = 300_000,
        maxOpenMs: Int64 = 3_600_000,
        backoffMultiplier: Double = 2.0,
        halfOpenProbes: Int = 1,
        authOpenMs: Int64 = 3_600_000,
        timeoutRateThreshold: Double? = 0.25,
        hangAfterMs: Int64? = 10_000
    ) {
        self.timeoutRateThreshold = timeoutRateThreshold
        self.hangAfterMs = hangAfterMs
        self.consecutiveFailures = consecutiveFailures
        self.failureRateThreshold = failureRateThreshold
        self.windowSize = windowSize
        self.minimumCalls = minimumCalls
        self.slowCallMs = slowCallMs
        self.slowCallRateThreshold = slowCallRateThreshold
        self.openMs = openMs
        self.maxOpenMs = maxOpenMs
        self.backoffMultiplier = backoffMultiplier
        self.halfOpenProbes = halfOpenProbes
        self.authOpenMs = authOpenMs
    }

    /// The seed's breaker (3 consecutive failures, 5 minutes open) plus the failure-rate rule.
    public static let `default` = BreakerPolicy()

    /// The open duration at growth `level` (1 = first trip): `min(maxOpenMs, openMs * backoffMultiplier^(level-1))`.
    public func openDuration(level: Int) -> Int64 {
        let base = max(0, openMs)
        let cap = max(base, maxOpenMs)
        let multiplier = max(1.0, backoffMultiplier)
        var duration = Double(base)
        var step = 1
        while step < level, duration < Double(cap) {
            duration *= multiplier
            step += 1
        }
        return duration >= Double(cap) ? cap : Int64(duration)
    }

    /// The highest useful growth level: the first whose duration reaches the cap (1 when durations never grow).
    /// Levels are clamped to it, so shrinking back from the cap takes a bounded time.
    var maxLevel: Int {
        guard backoffMultiplier > 1, openMs > 0 else { return 1 }
        var level = 1
        while level < 64, openDuration(level: level) < maxOpenMs { level += 1 }
        return level
    }

    /// Window capacity actually used: at least one call.
    var effectiveWindowSize: Int { max(1, windowSize) }

    /// Calls the window must hold before a rate rule applies: between 1 and the window size.
    var effectiveMinimumCalls: Int { min(max(1, minimumCalls), effectiveWindowSize) }

    /// Whether `outcome` counts as a slow call.
    func isSlow(_ outcome: CallOutcome) -> Bool {
        guard let limit = slowCallMs else { return false }
        return outcome.latencyMs > limit
    }
}
