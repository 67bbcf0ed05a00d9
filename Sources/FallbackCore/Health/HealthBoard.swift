import Synchronization

/// Every model's health window behind one lock: the router records each finished call here and
/// asks `isDegraded` when planning; the `health` method reads `stats`. Windows are created lazily
/// per model name, each with the board's policy.
public final class HealthBoard: Sendable {
    /// The policy every model's window uses.
    public let policy: HealthPolicy
    private let windows: Mutex<[String: HealthWindow]>

    public init(policy: HealthPolicy = .default) {
        self.policy = policy
        windows = Mutex([:])
    }

    /// Counts a finished call of `model` (outcomes that do not reflect health are ignored).
    public func record(_ model: String, _ outcome: CallOutcome, at now: Moment) {
        guard outcome.reflectsModelHealth else { return }
        windows.withLock { windows in
            if windows[model] == nil { windows[model] = HealthWindow(policy: policy) }
            windows[model]?.record(outcome, at: now)
        }
    }

    /// `model`'s stats over the last `windowMinutes`; empty stats (rate 1.0, not degraded) for a model
    /// never seen.
    public func stats(_ model: String, windowMinutes: Int, at now: Moment) -> HealthStats {
        let stats = windows.withLock { $0[model]?.stats(windowMinutes: windowMinutes, at: now) }
        let empty = HealthBucket(startUnixMillis: 0)
        return stats ?? HealthStats(windowMinutes: windowMinutes, total: empty, policy: policy)
    }

    /// Stats of every model seen so far over the last `windowMinutes`.
    public func allStats(windowMinutes: Int, at now: Moment) -> [String: HealthStats] {
        windows.withLock { windows in
            windows.mapValues { $0.stats(windowMinutes: windowMinutes, at: now) }
        }
    }

    /// Whether `model` is degraded over the policy's `reorderWindowMinutes`: the router tries
    /// degraded models after the healthy ones.
    public func isDegraded(_ model: String, at now: Moment) -> Bool {
        windows.withLock { $0[model]?.isDegraded(windowMinutes: policy.reorderWindowMinutes, at: now) ?? false }
    }

    /// A recovery probe proved `model` healthy: it stops being demoted for its past failures.
    public func clearDemotion(_ model: String, at now: Moment) {
        windows.withLock { $0[model]?.clearDemotion(at: now) }
    }

    /// Every model's non-empty buckets within its span, for persisting.
    public func snapshots() -> [String: [HealthBucket]] {
        windows.withLock { windows in
            windows.compactMapValues { window in
                let buckets = window.snapshot()
                return buckets.isEmpty ? nil : buckets
            }
        }
    }

    /// Replaces the windows of the models in `buckets` with the persisted buckets (dropping those
    /// outside the span ending at `now`); other models' windows are left as they are.
    public func restore(_ buckets: [String: [HealthBucket]], at now: Moment) {
        windows.withLock { windows in
            for (model, modelBuckets) in buckets {
                var window = HealthWindow(policy: policy)
                window.restore(modelBuckets, at: now)
                windows[model] = window
            }
        }
    }
}
