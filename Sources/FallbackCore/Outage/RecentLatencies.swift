import Synchronization

/// Each model's latest answer times, exactly, for the `hedge_after = "p95"` rule. The health
/// board's histogram estimates a percentile within 12%, which is fine for a report but not for a
/// hedge: a p95 read 12% low hedges a fifth of the calls of a steady model and drains the hedge
/// budget; read 12% high, a slowdown is noticed later. A ring of the latest `capacity` successful
/// latencies per model gives the exact nearest-rank percentile; it is sorted at most once per
/// `refreshMs` per model, so the hot path pays a dictionary lookup.
public final class RecentLatencies: Sendable {
    private struct Ring {
        var values: [Int32] = []
        var next = 0
        var cached: (at: Moment, p95: Int64?)?
    }

    /// Answers kept per model.
    public let capacity: Int
    static let refreshMs: Int64 = 1_000
    private let rings = Mutex<[String: Ring]>([:])

    public init(capacity: Int = 256) {
        self.capacity = max(1, capacity)
    }

    /// Counts one successful call's latency.
    public func record(_ model: String, latencyMs: Int64) {
        let value = Int32(clamping: max(0, latencyMs))
        rings.withLock { rings in
            var ring = rings.removeValue(forKey: model) ?? Ring()
            if ring.values.count < capacity {
                ring.values.append(value)
            } else {
                ring.values[ring.next] = value
                ring.next = (ring.next + 1) % capacity
            }
            rings[model] = ring
        }
    }

    /// The nearest-rank 95th percentile of `model`'s latest answers, once it has `minimumCalls`
    /// of them; `nil` before.
    public func p95(_ model: String, minimumCalls: Int, at now: Moment) -> Int64? {
        let values: [Int32]? = rings.withLock { rings in
            guard let ring = rings[model], ring.values.count >= max(1, minimumCalls) else { return nil }
            if let cached = ring.cached, now.millis(since: cached.at) < Self.refreshMs { return [] }
            return ring.values
        }
        guard let values else { return nil }
        if values.isEmpty { return rings.withLock { $0[model]?.cached?.p95 } }
        let sorted = values.sorted()
        let rank = (sorted.count * 95 + 99) / 100  // ceil(0.95 n), 1-based
        let p95 = Int64(sorted[max(0, rank - 1)])
        rings.withLock { $0[model]?.cached = (now, p95) }
        return p95
    }
}
