/// How a model's health is measured and judged: the rolling window's shape and the `degraded` rule.
///
/// The window is a ring of `bucketCount` buckets of `bucketSeconds` each, covering `spanMinutes`:
/// memory per model is fixed by these two numbers and never grows with traffic. Stats over shorter
/// windows (1, 5, 15 minutes) merge the newest buckets of the same ring.
public struct HealthPolicy: Sendable, Hashable {
    /// Width of one bucket, in seconds (10). Also the granularity at which old calls leave a window.
    public var bucketSeconds: Int
    /// How far back the ring reaches, in minutes (60): the longest window stats can cover.
    public var spanMinutes: Int
    /// A model is `degraded` when its success rate is below this (0.8, the seed's threshold)...
    public var degradedBelow: Double
    /// ...and it has at least this many counted calls in the window (5); below that it is never judged.
    public var minimumCalls: Int
    /// The window `HealthBoard.isDegraded` judges over, in minutes (10, as the seed's smart fallback).
    public var reorderWindowMinutes: Int

    public init(
        bucketSeconds: Int = 10, spanMinutes: Int = 60, degradedBelow: Double = 0.8, minimumCalls: Int = 5,
        reorderWindowMinutes: Int = 10
    ) {
        self.bucketSeconds = bucketSeconds
        self.spanMinutes = spanMinutes
        self.degradedBelow = degradedBelow
        self.minimumCalls = minimumCalls
        self.reorderWindowMinutes = reorderWindowMinutes
    }

    /// Buckets of 10 s over 60 min, degraded below 0.8 with at least 5 calls, judged over 10 min.
    public static let `default` = HealthPolicy()

    /// Width of one bucket in milliseconds (at least one second).
    public var bucketMillis: Int64 { Int64(max(1, bucketSeconds)) * 1_000 }

    /// Number of buckets in the ring: `ceil(spanMinutes * 60 / bucketSeconds)`, at least 1.
    /// This is the whole memory a model's window ever uses (360 with the defaults).
    public var bucketCount: Int { bucketsCovering(minutes: max(1, spanMinutes)) }

    /// How many of the newest buckets (the current one included) a window of `windowMinutes` merges:
    /// `ceil(windowMinutes * 60 / bucketSeconds)`, clamped to `1...bucketCount`.
    public func bucketCount(forWindowMinutes windowMinutes: Int) -> Int {
        min(bucketCount, bucketsCovering(minutes: max(0, windowMinutes)))
    }

    /// Start (unix millis) of the bucket holding `unixMillis`: `floor(ms / bucketMillis) * bucketMillis`.
    /// Aligned on the wall clock, so buckets mean the same thing after a restart.
    public func bucketStart(_ unixMillis: Int64) -> Int64 {
        let width = bucketMillis
        var quotient = unixMillis / width
        if unixMillis % width != 0, unixMillis < 0 { quotient -= 1 }
        return quotient * width
    }

    private func bucketsCovering(minutes: Int) -> Int {
        let seconds = minutes.multipliedReportingOverflow(by: 60)
        guard !seconds.overflow else { return Int.max }
        let width = max(1, bucketSeconds)
        return max(1, (seconds.partialValue + width - 1) / width)
    }
}
