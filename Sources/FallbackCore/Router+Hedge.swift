import Synchronization

extension Router {
    /// When to start a model beside `step`: the chain's hedge rule (spending the hedge budget), and
    /// once the attempt is overdue (whatever the budget; see ``OverdueCalls``). `nil` when neither
    /// applies or no other model is left.
    struct HedgeTiming {
        var step: RouteStep
        /// The chain's hedge rule: a budgeted hedge after this long.
        var ruleMs: Int64?
        /// An unbudgeted one once the attempt is overdue.
        var overdueMs: Int64?
    }

    func hedgePlan(for step: RouteStep, plan: RoutePlan, later: [RouteStep], at now: Moment) -> HedgeTiming? {
        guard let next = later.first else { return nil }
        var timing = HedgeTiming(step: next)
        switch policy.hedges[plan.chain] {
        case .afterMs(let delay):
            timing.ruleMs = max(0, delay)
        case .afterP95:
            if let resilience {
                let stats = resilience.health.stats(step.model.name, windowMinutes: 15, at: now)
                if stats.calls >= resilience.health.policy.minimumCalls, stats.p95LatencyMs > 0 { timing.ruleMs = stats.p95LatencyMs }
            }
        case nil:
            break
        }
        timing.overdueMs = resilience?.overdueMs(step.model.name, at: now)
        if let rule = timing.ruleMs, let overdue = timing.overdueMs, overdue <= rule { timing.ruleMs = nil }
        guard timing.ruleMs != nil || timing.overdueMs != nil else { return nil }
        return timing
    }

    /// Runs `primary`, and `hedge` beside it once `primary` has produced nothing for `delayMs` (and
    /// the hedge budget and `hedge`'s breaker allow). The first to answer (streaming: to commit)
    /// wins and the other is cancelled. Returns every attempt that ran, in the order they ended.
    func race(
        _ primary: RouteStep, permit: BreakerPermit?, timing: HedgeTiming, request: CompletionRequest,
        deadline: Moment, later: Int, stream: (any StreamSink)?
    ) async -> [AttemptRun] {
        let hedge = timing.step
        let delayMs = timing.ruleMs ?? timing.overdueMs ?? 0
        let (events, notify) = AsyncStream.makeStream(of: RaceEvent.self)
        let arbiter = CommitArbiter(notify: { notify.yield(.committed($0)) })
        let started = clock.now()
        let router = self
        let primaryTask = Task {
            let gate = stream.map { AttemptGate(model: primary.model.name, sink: $0, arbiter: arbiter, clock: clock) }
            let run = await router.attempt(primary, permit: permit, request: request, deadline: deadline, later: later, gate: gate)
            notify.yield(.finished(run))
        }
        let hedgeTask = Task {
            var budgeted = timing.ruleMs != nil
            do {
                try await router.clock.sleep(until: started.adding(millis: delayMs))
                if budgeted, !arbiter.decided, !router.hedgeBudget.take() {
                    // No budget for a speculative hedge: wait until the attempt is overdue, if ever.
                    guard let overdue = timing.overdueMs, overdue > delayMs else { throw CancellationError() }
                    budgeted = false
                    try await router.clock.sleep(until: started.adding(millis: overdue))
                }
            } catch {
                notify.yield(.hedgeSkipped)
                return
            }
            let now = router.clock.now()
            guard !Task.isCancelled, !arbiter.decided, let hedgePermit = router.hedgePermit(hedge, at: now) else {
                notify.yield(.hedgeSkipped)
                return
            }
            notify.yield(.hedgeStarted)
            let gate = stream.map { AttemptGate(model: hedge.model.name, sink: $0, arbiter: arbiter, clock: clock) }
            let run = await router.attempt(
                hedge, permit: hedgePermit, request: request, deadline: deadline, later: max(0, later - 1), gate: gate, hedged: true)
            notify.yield(.finished(run))
        }
        return await withTaskCancellationHandler {
            var runs: [AttemptRun] = []
            var pending = 2
            var hedgeStarted = false
            for await event in events {
                switch event {
                case .committed(let model):
                    // Streaming: the first to reach the caller wins; the other stops now.
                    (model == primary.model.name ? hedgeTask : primaryTask).cancel()
                case .hedgeStarted:
                    hedgeStarted = true
                case .hedgeSkipped:
                    pending -= 1
                case .finished(let run):
                    pending -= 1
                    runs.append(run)
                    if run.outcome.isSuccess {
                        arbiter.decide()
                        primaryTask.cancel()
                        hedgeTask.cancel()
                    } else if run.step.model.name == primary.model.name, run.committed || !hedgeStarted {
                        // The first attempt broke off after reaching the caller, or failed before the
                        // hedge was needed: the hedge has nothing to add.
                        arbiter.decide()
                        hedgeTask.cancel()
                    }
                }
                if pending == 0 { break }
            }
            notify.finish()
            return Self.chargeOutrunPrimary(runs, primary: primary.model.name)
        } onCancel: {
            primaryTask.cancel()
            hedgeTask.cancel()
        }
    }

    /// A primary cut off because its hedge answered first did not answer in time: it counts as a
    /// timeout for its breaker and health, so a model whose calls hedges keep rescuing (a share of
    /// them hanging) still trips, instead of hiding behind `cancelled`, which counts for nothing.
    static func chargeOutrunPrimary(_ runs: [AttemptRun], primary: String) -> [AttemptRun] {
        guard let hedge = runs.first(where: { $0.hedged && $0.outcome.isSuccess }) else { return runs }
        let hedgeDelayMs = hedge.startedAt.millis(since: runs.first { !$0.hedged }?.startedAt ?? hedge.startedAt)
        return runs.map { run in
            guard run.step.model.name == primary, !run.hedged, case .failure(let failure) = run.outcome,
                failure.type == .cancelled
            else { return run }
            var charged = run
            let waited = run.endedAt.millis(since: run.startedAt)
            charged.outcome = .failure(ProviderFailure(
                .timeout, message: "no answer after \(waited) ms; a hedge started at \(hedgeDelayMs) ms answered first",
                usage: failure.usage))
            return charged
        }
    }

    /// A permit for the hedge's model, `nil` when its breaker says no.
    func hedgePermit(_ step: RouteStep, at now: Moment) -> BreakerPermit?? {
        guard let resilience else { return .some(nil) }
        if resilience.parking.parkedUntil(step.model.name, at: now) != nil { return nil }
        return resilience.acquire(step.model, at: now).permit.map { .some($0) }
    }
}

/// What the attempts of a race report.
enum RaceEvent: Sendable {
    case finished(AttemptRun)
    case committed(String)
    case hedgeStarted
    case hedgeSkipped
}

/// Lets only one attempt of a race reach the caller: the first to deliver a delta commits the
/// request to its model; later deltas from the other are refused, which stops it.
final class CommitArbiter: Sendable {
    private let winner = Mutex<String?>(nil)
    private let settled = Mutex(false)
    private let notify: @Sendable (String) -> Void

    init(notify: @escaping @Sendable (String) -> Void) {
        self.notify = notify
    }

    /// Whether `model` may deliver: the first to ask wins.
    func claim(_ model: String) -> Bool {
        let (allowed, first) = winner.withLock { winner -> (Bool, Bool) in
            if let winner { return (winner == model, false) }
            winner = model
            return (true, true)
        }
        if first { notify(model) }
        return allowed
    }

    /// An attempt answered whole: no hedge starts after this.
    func decide() { settled.withLock { $0 = true } }

    var decided: Bool { settled.withLock { $0 } || winner.withLock { $0 != nil } }
}
