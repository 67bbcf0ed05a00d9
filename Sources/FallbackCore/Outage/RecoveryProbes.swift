import Synchronization

/// When a model that is out (breaker open) or demoted (degraded) may be sent a probe: a copy of a
/// live request, mirrored beside it and never on the caller's path. One probe at a time per model,
/// spaced by an interval that starts at `firstIntervalMs` and doubles after each failed probe up to
/// `maxIntervalMs`; a success resets it.
public final class RecoveryProbes: Sendable {
    public struct Policy: Sendable, Hashable {
        public var firstIntervalMs: Int64
        public var maxIntervalMs: Int64
        /// Whether probes run at all.
        public var enabled: Bool

        public init(firstIntervalMs: Int64 = 5_000, maxIntervalMs: Int64 = 60_000, enabled: Bool = true) {
            self.firstIntervalMs = firstIntervalMs
            self.maxIntervalMs = maxIntervalMs
            self.enabled = enabled
        }
    }

    private struct State {
        var inFlight = false
        var nextAt: Moment?
        var intervalMs: Int64
    }

    public let policy: Policy
    private let states = Mutex<[String: State]>([:])

    public init(policy: Policy = Policy()) {
        self.policy = policy
    }

    /// Takes the probe slot of `model` when it is free and due; the caller must `finish` it.
    public func begin(_ model: String, at now: Moment) -> Bool {
        guard policy.enabled else { return false }
        return states.withLock { states in
            var state = states[model] ?? State(intervalMs: policy.firstIntervalMs)
            guard !state.inFlight else { return false }
            if let next = state.nextAt, now < next { return false }
            state.inFlight = true
            states[model] = state
            return true
        }
    }

    /// The probe of `model` ended: a success starts the spacing over; a failure doubles it.
    public func finish(_ model: String, success: Bool, at now: Moment) {
        states.withLock { states in
            var state = states[model] ?? State(intervalMs: policy.firstIntervalMs)
            state.inFlight = false
            state.nextAt = now.adding(millis: state.intervalMs)
            state.intervalMs = success
                ? policy.firstIntervalMs : min(policy.maxIntervalMs, max(state.intervalMs, 1) * 2)
            states[model] = state
        }
    }

    /// `model` is back in service: the next time it needs probing starts from the first interval.
    public func forget(_ model: String) {
        _ = states.withLock { $0.removeValue(forKey: model) }
    }
}
