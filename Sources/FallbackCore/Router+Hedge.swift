import Synchronization

extension Router {
    /// The next model to hedge `step` with and when, or `nil`: the chain has no hedge rule, its p95
    /// is not known yet, or no other model is left.
    func hedgePlan(for step: RouteStep, plan: RoutePlan, later: [RouteStep], at now: Moment) -> (step: RouteStep, delayMs: Int64)? {
        guard let rule = policy.hedges[plan.chain], let next = later.first else { return nil }
        switch rule {
        case .afterMs(let delay):
            return (next, max(0, delay))
        case .afterP95:
            guard let resilience else { return nil }
            let stats = resilience.health.stats(step.model.name, windowMinutes: 15, at: now)
            guard stats.calls >= resilience.health.policy.minimumCalls, stats.p95LatencyMs > 0 else { return nil }
            return (next, stats.p95LatencyMs)
        }
    }

    /// Runs `primary`, and `hedge` beside it once `primary` has produced nothing for `delayMs` (and
    /// the hedge budget and `hedge`'s breaker allow). The first to answer (streaming: to commit)
    /// wins and the other is cancelled. Returns every attempt that ran, in the order they ended.
    func race(
        _ primary: RouteStep, permit: BreakerPermit?, hedge: RouteStep, after delayMs: Int64, request: CompletionRequest,
        deadline: Moment, later: Int, stream: (any StreamSink)?
    ) async -> [AttemptRun] {
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
            do {
                try await router.clock.sleep(until: started.adding(millis: delayMs))
            } catch {
                notify.yield(.hedgeSkipped)
                return
            }
            let now = router.clock.now()
            guard !Task.isCancelled, !arbiter.decided, router.hedgeBudget.take(),
                let hedgePermit = router.hedgePermit(hedge, at: now)
            else {
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
            return runs
        } onCancel: {
            primaryTask.cancel()
            hedgeTask.cancel()
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
