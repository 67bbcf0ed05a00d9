/// Health buckets as one short line for the fleet's state rows: `start:calls:successes:latency_sum`
/// joined by `;`. Latency histograms stay local, so the fleet view has counts and mean latency only.
extension HealthBucket {
    /// `buckets` as one line, oldest first.
    public static func compact(_ buckets: [HealthBucket]) -> String {
        buckets.map { "\($0.startUnixMillis):\($0.calls):\($0.successes):\($0.latencySumMs)" }.joined(separator: ";")
    }

    /// Reads a line written by ``compact(_:)``; malformed entries are skipped, counts are clamped.
    public static func parseCompact(_ text: String) -> [HealthBucket] {
        text.split(separator: ";").compactMap { entry in
            let fields = entry.split(separator: ":").map { Int64($0) }
            guard fields.count == 4, let start = fields[0], let calls = fields[1], let successes = fields[2],
                let latency = fields[3], calls > 0
            else { return nil }
            let total = Int(clamping: calls)
            return HealthBucket(
                startUnixMillis: start, calls: total, successes: min(total, max(0, Int(clamping: successes))),
                latencySumMs: max(0, latency))
        }
    }
}
