import Synchronization

/// When a model that is out (breaker open) or demoted (degraded) may be sent a probe: a copy of a
/// live request, mirrored beside it and never on the caller's path. One probe at a time per model,
/// spaced by an interval that starts at `firstIntervalMs` and doubles after each failed probe up to
/// `maxIntervalMs`; a success resets it.
///
/// A model taken out for timeouts (hanging or slow calls: a gray failure, which one good answer
/// does not disprove) comes back only after `confirmations` successful probes in a row, each
/// `confirmIntervalMs` after the last; one taken out for errors after one.
public final class RecoveryProbes: Sendable {
    public struct Policy: Sendable, Hashable {
        public var firstIntervalMs: Int64
        public var maxIntervalMs: Int64
        /// Whether probes run at all.
        public var enabled: Bool
        /// Successful probes in a row that bring back a model taken out for timeouts.
        public var confirmations: Int
        /// The spacing of those confirming probes.
        public var confirmIntervalMs: Int64

        public init(
            firstIntervalMs: Int64 = 5_000, maxIntervalMs: Int64 = 60_000, enabled: Bool = true, confirmations: Int = 5,
            confirmIntervalMs: Int64 = 1_000
        ) {
            self.firstIntervalMs = firstIntervalMs
            self.maxIntervalMs = maxIntervalMs
            self.enabled = enabled
            self.confirmations = max(1, confirmations)
            self.confirmIntervalMs = max(0, confirmIntervalMs)
        }
    }

    private struct State {
        var inFlight = false
        var nextAt: Moment?
        var intervalMs: Int64
        /// Successful probes in a row.
        var streak = 0
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

    /// The probe of `model` ended. Returns whether the model has proved itself: this success makes
    /// `needed` in a row (1, or ``Policy/confirmations`` for a model out for timeouts). Until then the
    /// next probe is due after `confirmIntervalMs`; a recovery starts the spacing over, a failure
    /// doubles it and starts the count again.
    @discardableResult
    public func finish(_ model: String, success: Bool, needed: Int = 1, at now: Moment) -> Bool {
        states.withLock { states in
            var state = states[model] ?? State(intervalMs: policy.firstIntervalMs)
            state.inFlight = false
            defer { states[model] = state }
            guard success else {
                state.streak = 0
                state.nextAt = now.adding(millis: state.intervalMs)
                state.intervalMs = min(policy.maxIntervalMs, max(state.intervalMs, 1) * 2)
                return false
            }
            state.streak += 1
            if state.streak < max(1, needed) {
                state.nextAt = now.adding(millis: policy.confirmIntervalMs)
                return false
            }
            state.streak = 0
            state.nextAt = now.adding(millis: state.intervalMs)
            state.intervalMs = policy.firstIntervalMs
            return true
        }
    }

    /// `model` is back in service: the next time it needs probing starts from the first interval.
    public func forget(_ model: String) {
        _ = states.withLock { $0.removeValue(forKey: model) }
    }
}
