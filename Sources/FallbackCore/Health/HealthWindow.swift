/// One model's rolling health: a fixed ring of wall-clock buckets covering the policy's span.
///
/// Bucket number `n = floor(unixMillis / bucketMillis)` lives in slot `n mod bucketCount`; a slot
/// still holding an older bucket is reset when reused, so old counts never leak into new ones and
/// memory stays `bucketCount` buckets however many calls are recorded. Stats merge the buckets of
/// the last `windowMinutes` (the current bucket included): a call leaves a window once its bucket
/// is `bucketCount(forWindowMinutes:)` buckets old, i.e. the window has bucket granularity.
public struct HealthWindow: Sendable {
    public let policy: HealthPolicy
    /// The ring; a slot's bucket counts only if its start matches the bucket the slot stands for now.
    private var slots: [HealthBucket]
    /// The bucket a recovery probe cleared the demotion in: degradation counts only later buckets.
    private var clearedBucket: Int64 = .min

    public init(policy: HealthPolicy) {
        self.policy = policy
        // Every slot starts as the same empty bucket (shared storage until first written).
        slots = Array(repeating: HealthBucket(startUnixMillis: .min), count: policy.bucketCount)
    }

    /// Number of buckets the window keeps: fixed by the policy, independent of traffic.
    var bucketCount: Int { slots.count }

    /// Counts a finished call in the bucket of `now`'s wall-clock time. Outcomes that do not
    /// reflect the model's health (cancelled, invalid_request, context_length, content_filter) are not counted.
    public mutating func record(_ outcome: CallOutcome, at now: Moment) {
        guard outcome.reflectsModelHealth else { return }
        let start = policy.bucketStart(now.unixMillis)
        let slot = slotIndex(start)
        if slots[slot].startUnixMillis != start { slots[slot] = HealthBucket(startUnixMillis: start) }
        slots[slot].add(outcome)
    }

    /// Success rate, counts and latency over the last `windowMinutes` (clamped to the span), judged
    /// by the policy: buckets whose start lies in the newest `bucketCount(forWindowMinutes:)` buckets.
    public func stats(windowMinutes: Int, at now: Moment) -> HealthStats {
        let sum = total(windowMinutes: windowMinutes, at: now, latency: true)
        return HealthStats(windowMinutes: windowMinutes, total: sum, policy: policy)
    }

    /// Whether the model is degraded over `windowMinutes` (cheaper than `stats`: no percentiles),
    /// counting only buckets after the last cleared demotion.
    public func isDegraded(windowMinutes: Int, at now: Moment) -> Bool {
        let sum = total(windowMinutes: windowMinutes, at: now, latency: false, after: clearedBucket)
        return HealthStats.isDegraded(calls: sum.calls, successes: sum.successes, policy: policy)
    }

    /// A recovery probe proved the model healthy: it is no longer demoted for what came before.
    public mutating func clearDemotion(at now: Moment) {
        clearedBucket = policy.bucketStart(now.unixMillis)
    }

    /// The non-empty buckets within the span of the newest one, oldest first: what to persist.
    public func snapshot() -> [HealthBucket] {
        let filled = slots.filter { $0.calls > 0 }
        guard let newest = filled.map(\.startUnixMillis).max() else { return [] }
        let oldest = newest - Int64(slots.count - 1) * policy.bucketMillis
        return filled.filter { $0.startUnixMillis >= oldest }.sorted { $0.startUnixMillis < $1.startUnixMillis }
    }

    /// Replaces the window's content with persisted buckets, keeping only those within the span
    /// ending at `now`'s bucket (older ones and ones from the future are dropped). Buckets are
    /// re-aligned to this policy's width, so a changed `bucketSeconds` merges or coarsens them.
    public mutating func restore(_ buckets: [HealthBucket], at now: Moment) {
        slots = Array(repeating: HealthBucket(startUnixMillis: .min), count: slots.count)
        let current = policy.bucketStart(now.unixMillis)
        let oldest = current - Int64(slots.count - 1) * policy.bucketMillis
        for bucket in buckets where bucket.calls > 0 {
            let start = policy.bucketStart(bucket.startUnixMillis)
            guard start >= oldest, start <= current else { continue }
            let slot = slotIndex(start)
            if slots[slot].startUnixMillis != start { slots[slot] = HealthBucket(startUnixMillis: start) }
            slots[slot].merge(bucket)
        }
    }

    /// The merged buckets of the window ending at `now` (histograms merged only when `latency`).
    private func total(windowMinutes: Int, at now: Moment, latency: Bool, after excluded: Int64 = .min) -> HealthBucket {
        let current = policy.bucketStart(now.unixMillis)
        let count = policy.bucketCount(forWindowMinutes: windowMinutes)
        var oldest = current - Int64(count - 1) * policy.bucketMillis
        if excluded != .min { oldest = max(oldest, excluded + policy.bucketMillis) }
        guard oldest <= current else { return HealthBucket(startUnixMillis: current) }
        var sum = HealthBucket(startUnixMillis: oldest)
        for bucket in slots where bucket.calls > 0 && (oldest...current).contains(bucket.startUnixMillis) {
            sum.calls += bucket.calls
            sum.successes += bucket.successes
            sum.latencySumMs = saturatingSum(sum.latencySumMs, bucket.latencySumMs)
            if latency { sum.histogram.merge(bucket.histogram) }
        }
        return sum
    }

    /// The slot bucket `start` (aligned) lives in: its bucket number modulo the ring size.
    private func slotIndex(_ start: Int64) -> Int {
        let number = start / policy.bucketMillis
        let count = Int64(slots.count)
        return Int(((number % count) + count) % count)
    }
}
