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
            if let resilience,
                let p95 = resilience.recentLatencies.p95(step.model.name, minimumCalls: resilience.health.policy.minimumCalls, at: now),
                p95 > 0
            {
                timing.ruleMs = p95
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
    /// the hedge budget and `hedge`'s breaker allow), once it is overdue, or as soon as `primary`'s
    /// model turns lagging (neither spends the budget). The first to answer (streaming: to commit) wins and the other is
    /// cancelled. Returns every attempt that ran, in the order they ended.
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
        let timer = Task {
            do {
                try await router.clock.sleep(until: started.adding(millis: delayMs))
                notify.yield(.due(overdue: timing.ruleMs == nil))
                // A budgeted hedge the budget refused still gets its unbudgeted one once overdue.
                if timing.ruleMs != nil, let overdue = timing.overdueMs, overdue > delayMs {
                    try await router.clock.sleep(until: started.adding(millis: overdue))
                    notify.yield(.due(overdue: true))
                }
            } catch {}
        }
        let watch = resilience.map { ($0, $0.lagging.watch(primary.model.name) { notify.yield(.lagging) }) }
        let startHedge = { @Sendable () -> Task<Void, Never>? in
            guard let hedgePermit = router.hedgePermit(hedge, at: router.clock.now()) else { return nil }
            return Task {
                let gate = stream.map { AttemptGate(model: hedge.model.name, sink: $0, arbiter: arbiter, clock: clock) }
                let run = await router.attempt(
                    hedge, permit: hedgePermit, request: request, deadline: deadline, later: max(0, later - 1), gate: gate,
                    hedged: true)
                notify.yield(.finished(run))
            }
        }
        let hedgeTask = Mutex<Task<Void, Never>?>(nil)
        return await withTaskCancellationHandler {
            var runs: [AttemptRun] = []
            var primaryDone = false
            var hedgeState = HedgeState.waiting
            var markedLate = false
            for await event in events {
                switch event {
                case .committed(let model):
                    // Streaming: the first to reach the caller wins; the other stops now.
                    if model == primary.model.name { hedgeTask.withLock { $0 }?.cancel() } else { primaryTask.cancel() }
                case .due(let overdue):
                    if !markedLate, !primaryDone, let permit, let resilience {
                        // Late, and still out: it counts toward the timeout rate now, and may make its model lagging.
                        markedLate = true
                        _ = resilience.markLate(primary.model, permit: permit, at: router.clock.now())
                    }
                    fallthrough
                case .lagging:
                    guard hedgeState == .waiting, !primaryDone, !arbiter.decided, !Task.isCancelled else { break }
                    // Only the chain's speculative hedge spends the budget: an overdue call, or one of a
                    // lagging model, is late, not unlucky.
                    if case .due(overdue: false) = event, !router.hedgeBudget.take() { break }
                    if let task = startHedge() {
                        hedgeTask.withLock { $0 = task }
                        hedgeState = .running
                    } else {
                        hedgeState = .refused
                    }
                case .finished(let run):
                    runs.append(run)
                    if run.hedged { hedgeState = .done } else { primaryDone = true }
                    if run.outcome.isSuccess {
                        arbiter.decide()
                        primaryTask.cancel()
                        hedgeTask.withLock { $0 }?.cancel()
                    } else if !run.hedged, run.committed || hedgeState != .running {
                        // The first attempt broke off after reaching the caller, or failed before the
                        // hedge was needed: the hedge has nothing to add.
                        arbiter.decide()
                    }
                }
                if primaryDone, hedgeState != .running { break }
            }
            timer.cancel()
            if let (resilience, token) = watch { resilience.lagging.stop(primary.model.name, token: token) }
            notify.finish()
            return Self.chargeOutrunPrimary(runs, primary: primary.model.name)
        } onCancel: {
            primaryTask.cancel()
            timer.cancel()
            hedgeTask.withLock { $0 }?.cancel()
        }
    }

    /// Where a race's hedge stands.
    enum HedgeState {
        case waiting, running, refused, done
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

/// What the attempts, the timer and the lagging watch of a race report.
enum RaceEvent: Sendable {
    case finished(AttemptRun)
    case committed(String)
    /// The hedge time passed (`overdue`: the unbudgeted one).
    case due(overdue: Bool)
    /// The primary's model turned lagging.
    case lagging
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
