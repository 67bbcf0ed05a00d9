import Synchronization

/// Every model's circuit breaker behind one `Mutex`; the router and the RPC methods share it.
///
/// A breaker is created on first use of a model name, with that model's policy or the default one.
/// Each call holds the lock only for the O(1) work of one breaker (`statuses`, `snapshots` and `restore`
/// walk them all), never across I/O.
public final class BreakerBoard: Sendable {
    private struct Policies: Sendable {
        var byModel: [String: BreakerPolicy]
        var fallback: BreakerPolicy

        func policy(for model: String) -> BreakerPolicy { byModel[model] ?? fallback }
    }

    private let policies: Mutex<Policies>
    private let breakers = Mutex<[String: CircuitBreaker]>([:])
    private let onTransition: (@Sendable (BreakerTransition) -> Void)?
    private let onFailure: (@Sendable (String, Moment) -> Void)?

    /// A board whose breakers use `policies[model]` when present, else `defaultPolicy`. `onTransition`
    /// hears every phase change (outside the lock, so it may log), in the order they happen per model;
    /// `onFailure` hears each failure counted while closed that did not trip the breaker (a fleet shares them).
    public init(
        policies: [String: BreakerPolicy] = [:], defaultPolicy: BreakerPolicy = .default,
        onTransition: (@Sendable (BreakerTransition) -> Void)? = nil, onFailure: (@Sendable (String, Moment) -> Void)? = nil
    ) {
        self.policies = Mutex(Policies(byModel: policies, fallback: defaultPolicy))
        self.onTransition = onTransition
        self.onFailure = onFailure
    }

    /// The policy `model`'s breaker uses.
    public func policy(for model: String) -> BreakerPolicy {
        policies.withLock { $0.policy(for: model) }
    }

    /// A reload: new policies for every breaker (each keeps its phase and the newest calls of its
    /// window), and a fresh closed breaker for each model in `resetting` (its provider key or URL
    /// changed, so its failures say nothing about it now).
    public func reconfigure(policies byModel: [String: BreakerPolicy], defaultPolicy: BreakerPolicy, resetting: Set<String>) {
        let updated = Policies(byModel: byModel, fallback: defaultPolicy)
        policies.withLock { $0 = updated }
        breakers.withLock { all in
            for model in Array(all.keys) {
                if resetting.contains(model) {
                    var fresh = CircuitBreaker(policy: updated.policy(for: model))
                    if let previous = all[model] { fresh.invalidatePermits(after: previous.generation) }
                    all[model] = fresh
                } else {
                    all[model]?.policy = updated.policy(for: model)
                }
            }
        }
    }

    /// Asks to call `model` now; see `CircuitBreaker.acquire(at:)`.
    public func acquire(_ model: String, at now: Moment) -> BreakerDecision {
        withBreaker(model) { $0.acquire(at: now) }
    }

    /// Records a finished call of `model` made under `permit`; see `CircuitBreaker.record(_:permit:at:)`.
    @discardableResult
    public func record(_ model: String, _ outcome: CallOutcome, permit: BreakerPermit, at now: Moment) -> Bool {
        let (counted, closed) = withBreaker(model) { breaker in (breaker.record(outcome, permit: permit, at: now), breaker.phase == .closed) }
        if counted, closed, !outcome.success, !permit.isProbe { onFailure?(model, now) }
        return counted
    }

    /// Records an outcome seen outside fallbackd; see `CircuitBreaker.recordExternal(_:at:)`.
    @discardableResult
    public func recordExternal(_ model: String, _ outcome: CallOutcome, at now: Moment) -> Bool {
        let (counted, closed) = withBreaker(model) { breaker in (breaker.recordExternal(outcome, at: now), breaker.phase == .closed) }
        if counted, closed, !outcome.success { onFailure?(model, now) }
        return counted
    }

    /// A call of `model` made under `permit` is late and still out; see `CircuitBreaker.markLate(_:at:)`.
    /// Returns whether the model is lagging.
    public func markLate(_ model: String, permit: BreakerPermit, at now: Moment) -> Bool {
        withBreaker(model) { $0.markLate(permit, at: now) }
    }

    /// A recovery probe answered: an open breaker closes at once.
    public func recoveredByProbe(_ model: String, at now: Moment) {
        withBreaker(model) { breaker in
            if breaker.status(at: now).phase == .open || breaker.status(at: now).phase == .halfOpen { breaker.close(at: now) }
        }
    }

    /// A recovery probe failed while the breaker is open: it counts as the open period's probe.
    public func recoveryProbeFailed(_ model: String, at now: Moment) {
        withBreaker(model) { breaker in
            if breaker.status(at: now).phase == .open { breaker.trip(at: now, reason: "recovery probe failed", timeouts: nil) }
        }
    }

    /// `model`'s breaker as of `now`.
    public func status(_ model: String, at now: Moment) -> BreakerStatus {
        withBreaker(model) { $0.status(at: now) }
    }

    /// Every breaker created so far, plus one for each model with its own policy, as of `now`.
    public func statuses(at now: Moment) -> [String: BreakerStatus] {
        let configured = policies.withLock { $0.byModel }
        return breakers.withLock { all in
            for (model, policy) in configured where all[model] == nil {
                all[model] = CircuitBreaker(policy: policy)
            }
            var result: [String: BreakerStatus] = [:]
            result.reserveCapacity(all.count)
            for model in all.keys {
                if let status = all[model]?.status(at: now) { result[model] = status }
            }
            return result
        }
    }

    /// Operator reset of `model`'s breaker.
    public func reset(_ model: String, at now: Moment) {
        withBreaker(model) { $0.reset(at: now) }
    }

    /// Operator isolation of `model`'s breaker: rejected until `reset`.
    public func isolate(_ model: String, at now: Moment) {
        withBreaker(model) { $0.isolate(at: now) }
    }

    /// Every breaker's persistent state.
    public func snapshots() -> [String: BreakerSnapshot] {
        breakers.withLock { all in all.mapValues { $0.snapshot() } }
    }

    /// Replaces the named breakers with restored ones (each with its model's policy); others are untouched.
    /// Permits handed out by a replaced breaker become stale.
    public func restore(_ snapshots: [String: BreakerSnapshot], now: Moment) {
        let current = policies.withLock { $0 }
        breakers.withLock { all in
            for (model, snapshot) in snapshots {
                var restored = CircuitBreaker(policy: current.policy(for: model), restoring: snapshot, now: now)
                if let previous = all[model] { restored.invalidatePermits(after: previous.generation) }
                all[model] = restored
            }
        }
    }

    /// Runs `body` on `model`'s breaker under the lock, creating the breaker on first use.
    /// `peer` names the fleet peer whose event this applies: the transition is marked as its, so it is not announced again.
    func withBreaker<Result: Sendable>(_ model: String, causedBy peer: String? = nil, _ body: (inout CircuitBreaker) -> Result) -> Result {
        let (result, transition) = breakers.withLock { all -> (Result, BreakerTransition?) in
            let before = all[model]?.phase ?? .closed
            if all[model] == nil { all[model] = CircuitBreaker(policy: policy(for: model)) }
            let result = body(&all[model, default: CircuitBreaker(policy: .default)])
            guard onTransition != nil, let after = all[model], after.phase != before else { return (result, nil) }
            return (result, BreakerTransition(
                model: model, from: before, to: after.phase, reason: after.phase == .open ? after.lastTripReason : nil,
                openUntil: after.phase == .open ? after.openUntil : nil, level: after.level,
                misconfigured: after.phase == .open && after.misconfigured, peerHost: peer ?? after.peerHost))
        }
        if let transition { onTransition?(transition) }
        return result
    }
}

/// A breaker changing phase.
public struct BreakerTransition: Sendable, Hashable {
    public var model: String
    public var from: BreakerPhase
    public var to: BreakerPhase
    /// Why it opened (the trip reason), when it opened.
    public var reason: String?
    public var openUntil: Moment?
    /// The breaker's growth level after the change.
    public var level: Int = 0
    /// Opened by an `auth` or `quota` failure.
    public var misconfigured: Bool = false
    /// Set when a peer of the fleet caused it (its host name): such a change is not announced again.
    public var peerHost: String? = nil

    public init(
        model: String, from: BreakerPhase, to: BreakerPhase, reason: String? = nil, openUntil: Moment? = nil, level: Int = 0,
        misconfigured: Bool = false, peerHost: String? = nil
    ) {
        self.model = model
        self.from = from
        self.to = to
        self.reason = reason
        self.openUntil = openUntil
        self.level = level
        self.misconfigured = misconfigured
        self.peerHost = peerHost
    }
}
