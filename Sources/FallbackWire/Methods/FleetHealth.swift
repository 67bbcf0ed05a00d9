/// A model's health over every sidecar of the fleet, beside the local numbers in a `health` entry.
/// Latency percentiles stay local: the fleet shares counts and latency sums only.
public struct FleetHealth: Sendable, Equatable {
    /// Counted calls in the window, all sidecars together.
    public var calls: Int
    public var successes: Int
    /// `successes / calls`; 1.0 when there were no calls.
    public var successRate: Double
    /// Mean latency of those calls in milliseconds (0 without calls).
    public var avgLatencyMs: Double
    /// The fleet-wide numbers meet the `degraded` rule.
    public var degraded: Bool
    /// How many sidecars had calls of this model in the window (this one included).
    public var hosts: Int

    public init(calls: Int, successes: Int, successRate: Double, avgLatencyMs: Double, degraded: Bool, hosts: Int) {
        self.calls = calls
        self.successes = successes
        self.successRate = successRate
        self.avgLatencyMs = avgLatencyMs
        self.degraded = degraded
        self.hosts = hosts
    }

    /// Reads a `fleet` object; `nil` when it is not an object with integer `calls`.
    public init?(json: JSON) {
        guard let calls = json["calls"]?.roundedInt else { return nil }
        self.init(
            calls: calls, successes: json["successes"]?.roundedInt ?? 0, successRate: json["success_rate"]?.doubleValue ?? 1,
            avgLatencyMs: json["avg_latency_ms"]?.doubleValue ?? 0, degraded: json["degraded"]?.boolValue ?? false,
            hosts: json["hosts"]?.roundedInt ?? 0)
    }

    public var json: JSON {
        [
            "calls": .int(calls), "successes": .int(successes), "success_rate": .double(successRate),
            "avg_latency_ms": .double(avgLatencyMs), "degraded": .bool(degraded), "hosts": .int(hosts),
        ]
    }
}
