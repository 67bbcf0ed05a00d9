/// What to do when every model of a chain has an open breaker.
public enum AllOpenBehavior: String, Sendable, Hashable {
    /// Answer at once with -32003 and when to retry.
    case failFast = "fail_fast"
    /// Probe the model whose last failure is oldest (Envoy's panic mode).
    case tryLeastRecent = "try_least_recent"
}

/// The resilience engine: breakers, health windows, retry policy and budget, behind one seam the
/// router uses. Pure: every decision takes the moment it is made at.
public final class Resilience: RoutePlanner, Sendable {
    public let breakers: BreakerBoard
    public let health: HealthBoard
    public let budget: RetryBudget
    public let retry: RetryPolicy
    public let whenAllOpen: AllOpenBehavior
    /// Models parked by a Retry-After, for every request.
    public let parking: ParkingBoard
    /// When models that are out or demoted get a mirrored probe.
    public let recovery: RecoveryProbes
    /// When a call is so late it gets a hedge whatever the budget, and a probe too slow to count.
    public let overdue: OverdueCalls
    /// With a fleet: only the holder of a model's lease probes it (half-open calls and recovery probes).
    public let probeLeases: ProbeLeases?
    /// Races to wake when their model turns lagging.
    public let lagging = LaggingWatch()
    /// Each model's latest answer times, for `hedge_after = "p95"`.
    public let recentLatencies = RecentLatencies()

    public init(
        breakers: BreakerBoard, health: HealthBoard, budget: RetryBudget = RetryBudget(),
        retry: RetryPolicy = .default, whenAllOpen: AllOpenBehavior = .failFast,
        parking: ParkingBoard = ParkingBoard(), recovery: RecoveryProbes = RecoveryProbes(),
        overdue: OverdueCalls = OverdueCalls(), probeLeases: ProbeLeases? = nil
    ) {
        self.overdue = overdue
        self.probeLeases = probeLeases
        self.breakers = breakers
        self.health = health
        self.budget = budget
        self.retry = retry
        self.whenAllOpen = whenAllOpen
        self.parking = parking
        self.recovery = recovery
    }

    /// Healthy models in configured order, then degraded ones (the seed's rule), then the skipped.
    public func plan(chain: String, models: [ModelConfig], at now: Moment) -> RoutePlan {
        var healthy: [RouteStep] = []
        var degraded: [RouteStep] = []
        var skipped: [RouteStep] = []
        for model in models {
            if let until = parking.parkedUntil(model.name, at: now) {
                skipped.append(RouteStep(model: model, reason: .rateLimitedUntil, until: until))
                continue
            }
            let status = breakers.status(model.name, at: now)
            switch status.phase {
            case .open:
                skipped.append(RouteStep(model: model, reason: .open, until: status.openUntil))
            case .isolated:
                skipped.append(RouteStep(model: model, reason: .isolated))
            case .halfOpen:
                // Half-open with every slot out, or another sidecar of the fleet holds the probe lease.
                let busy = status.probesInFlight >= breakers.policy(for: model.name).halfOpenProbes
                    || !(probeLeases?.mayProbe(model.name, at: now) ?? true)
                if busy {
                    skipped.append(RouteStep(model: model, reason: .probeBusy))
                } else {
                    healthy.append(RouteStep(model: model, reason: .halfOpenProbe))
                }
            case .closed:
                if status.lagging {
                    degraded.append(RouteStep(model: model, reason: .lagging))
                } else if health.isDegraded(model.name, at: now) {
                    degraded.append(RouteStep(model: model, reason: .degraded))
                } else {
                    healthy.append(RouteStep(model: model, reason: .healthy))
                }
            }
        }
        if healthy.isEmpty, degraded.isEmpty, whenAllOpen == .tryLeastRecent,
            let index = leastRecentlyFailed(skipped, at: now)
        {
            var probe = skipped.remove(at: index)
            probe.reason = .panicProbe
            return RoutePlan(chain: chain, steps: [probe] + skipped, configured: models.map(\.name))
        }
        return RoutePlan(chain: chain, steps: healthy + degraded + skipped, configured: models.map(\.name))
    }

    /// Among open (not isolated) breakers, the one whose last failure is oldest.
    func leastRecentlyFailed(_ steps: [RouteStep], at now: Moment) -> Int? {
        let candidates = steps.indices.filter { steps[$0].reason == .open }
        return candidates.min { lhs, rhs in
            let left = breakers.status(steps[lhs].model.name, at: now).lastFailureAt?.nanos ?? .min
            let right = breakers.status(steps[rhs].model.name, at: now).lastFailureAt?.nanos ?? .min
            return left < right
        }
    }

    /// Asks the model's breaker for a permit to call it now.
    public func acquire(_ model: ModelConfig, at now: Moment) -> BreakerDecision {
        breakers.acquire(model.name, at: now)
    }

    /// Feeds one finished call to the breaker (with its permit), the health window and the budget.
    public func observe(_ model: ModelConfig, _ outcome: CallOutcome, permit: BreakerPermit?, at now: Moment) {
        if let permit { breakers.record(model.name, outcome, permit: permit, at: now) }
        health.record(model.name, outcome, at: now)
        if outcome.success { recentLatencies.record(model.name, latencyMs: outcome.latencyMs) }
        if outcome.reflectsModelHealth { budget.record(provider: model.provider, success: outcome.success) }
    }

    /// A provider's Retry-After holds for every request: the model is parked until then.
    public func park(_ model: ModelConfig, after failure: ProviderFailure, at now: Moment) {
        guard let wait = failure.retryAfterMs, wait > 0 else { return }
        parking.park(model.name, until: now.adding(millis: wait))
    }

    /// The models of `plan` that are out or demoted and due a recovery probe now (each slot is taken:
    /// the caller must report its outcome with ``recoveryProbeEnded(_:success:at:)``). Models out for
    /// `auth` or `quota` wait for a config change instead.
    public func recoveryProbesDue(_ plan: RoutePlan, at now: Moment) -> [ModelConfig] {
        var due: [ModelConfig] = []
        for step in plan.steps where step.reason == .open || step.reason == .degraded {
            if step.reason == .open, breakers.status(step.model.name, at: now).misconfigured { continue }
            if step.reason == .open, let leases = probeLeases, !leases.mayProbe(step.model.name, at: now) { continue }
            if recovery.begin(step.model.name, at: now) { due.append(step.model) }
        }
        return due
    }

    /// A call of `model` is past the point a hedge starts at and still out (see
    /// `CircuitBreaker.markLate`). Returns whether the model is lagging now; if so, the races on
    /// its other calls still out are woken to hedge them.
    public func markLate(_ model: ModelConfig, permit: BreakerPermit, at now: Moment) -> Bool {
        let lagging = breakers.markLate(model.name, permit: permit, at: now)
        if lagging { self.lagging.wake(model.name) }
        return lagging
    }

    /// Milliseconds after which a call of `model` is overdue (see ``OverdueCalls``).
    public func overdueMs(_ model: String, at now: Moment) -> Int64? {
        overdue.limitMs(model, health: health, at: now)
    }

    /// A recovery probe ended: a success closes the breaker and clears the demotion at once (a
    /// breaker open for timeouts after ``RecoveryProbes/Policy/confirmations`` in a row); a failure
    /// counts as the open period's probe.
    public func recoveryProbeEnded(_ model: ModelConfig, success: Bool, at now: Moment) {
        let needed = breakers.status(model.name, at: now).trippedOnTimeouts ? recovery.policy.confirmations : 1
        let recovered = recovery.finish(model.name, success: success, needed: needed, at: now)
        if success, !recovered { return }
        if success {
            breakers.recoveredByProbe(model.name, at: now)
            health.clearDemotion(model.name, at: now)
        } else {
            breakers.recoveryProbeFailed(model.name, at: now)
        }
    }

    /// An outcome an app saw calling a provider itself (`report`): counts like one fallbackd saw.
    /// Returns whether the breaker counted it (it ignores reports while open or isolated).
    @discardableResult
    public func report(_ model: ModelConfig, _ outcome: CallOutcome, at now: Moment) -> Bool {
        let counted = breakers.recordExternal(model.name, outcome, at: now)
        health.record(model.name, outcome, at: now)
        if outcome.reflectsModelHealth { budget.record(provider: model.provider, success: outcome.success) }
        return counted
    }

    /// The earliest moment any of `steps` lets a call through, for -32003's `retry_after_ms`.
    public func earliestReopening(_ steps: [RouteStep]) -> Moment? {
        steps.compactMap(\.until).min()
    }
}
