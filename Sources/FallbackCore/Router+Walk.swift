/// One attempt on one model, as it ended.
struct AttemptRun: Sendable {
    var step: RouteStep
    var permit: BreakerPermit?
    var outcome: Result<ProviderResponse, ProviderFailure>
    var startedAt: Moment
    var endedAt: Moment
    /// Streaming: the attempt's deltas reached the caller, and how much of it.
    var committed = false
    var delivered = DeliveredPart()
    /// Started beside a slower attempt (a hedge).
    var hedged = false
    /// Streaming: when the model's first answer delta arrived.
    var firstAnswerAt: Moment?
}

extension Router {
    /// Tries the planned models in order until one serves or the deadline passes. With a `stream`
    /// sink and a streaming request, answers stream to it under the commit contract: until a model's
    /// first delta reaches the caller its failures fall back invisibly; after it, a failure ends
    /// the request as interrupted, or (`on_interrupt: restart`) resets the caller and moves on.
    ///
    /// Each attempt leaves part of the deadline to the models still to try (``RoutingPolicy``); a
    /// model parked by a Retry-After is passed over; a timed-out model is not retried while another
    /// can be tried; a chain with a hedge rule starts its next model beside a first attempt that has
    /// produced nothing in time.
    public func execute(
        _ request: CompletionRequest, plan planned: RoutePlan? = nil, stream: (any StreamSink)? = nil
    ) async -> Result<CompletionResult, RouteFailure> {
        // Only a request that asked to stream streams, whoever offers a sink.
        let stream = request.chat.stream ? stream : nil
        let start = clock.now()
        let deadline = start.adding(millis: request.timeoutMs)
        hedgeBudget.deposit()
        var plan = planned ?? plan(for: request, at: start)
        // Everything parked by Retry-After: wait for the first to come back, if it does in time.
        if plan.triedSteps.isEmpty, let resume = earliestParking(plan, before: deadline) {
            try? await clock.sleep(until: resume)
            plan = self.plan(for: request, at: clock.now())
        }
        var walk = ChainWalk(request: request, plan: plan, start: start, primary: plan.configured.first.flatMap { pool.models[$0] })
        let tried = plan.triedSteps
        if tried.isEmpty, !plan.steps.isEmpty {
            let kind = Self.nothingToTry(plan.steps, resilience: resilience, estimatedTokens: request.chat.estimatedInputTokens)
            return .failure(walk.failure(kind, at: clock.now()))
        }
        var generator = SystemRandomNumberGenerator()
        for (index, step) in tried.enumerated() where !walk.isPassedOver(step) && !walk.attempted(step.model.name) {
            var retryIndex = 0
            while true {
                let now = clock.now()
                guard now < deadline else {
                    walk.skip(tried[index...], reason: .skippedByDeadline)
                    return .failure(walk.failure(.deadlineExceeded, at: now))
                }
                if Task.isCancelled { return .failure(walk.failure(.cancelled, at: now)) }
                if let until = resilience?.parking.parkedUntil(step.model.name, at: now) {
                    walk.skip(step, reason: .rateLimitedUntil, until: until)
                    break
                }
                guard case .granted(let permit) = takePermit(step, walk: &walk, at: now) else { break }
                let later = tried[(index + 1)...].filter { !walk.isPassedOver($0) && !walk.attempted($0.model.name) }
                let runs: [AttemptRun]
                if retryIndex == 0, let timing = hedgePlan(for: step, plan: plan, later: later, at: now) {
                    runs = await race(
                        step, permit: permit, timing: timing, request: request, deadline: deadline, later: later.count,
                        stream: stream)
                } else {
                    let gate = stream.map { AttemptGate(model: step.model.name, sink: $0, clock: clock) }
                    runs = [await attempt(step, permit: permit, request: request, deadline: deadline, later: later.count, gate: gate)]
                }
                for run in runs { remember(run, walk: &walk) }
                if let served = runs.first(where: { $0.outcome.isSuccess }), case .success(let response) = served.outcome {
                    // The caller has the answer; the last delta says why it ended and what it used.
                    stream?.delta(ChatDelta(finishReason: response.finishReason, usage: response.usage), model: served.step.model.name)
                    return .success(walk.result(served: served.step.model, response: response, at: served.endedAt))
                }
                if let broken = runs.first(where: { $0.committed }), case .failure(let failure) = broken.outcome {
                    // Part of this model's answer reached the caller: never passed off as a whole one.
                    guard request.onInterrupt == .restart, let stream else {
                        let kind = RouteFailure.Kind.interrupted(model: broken.step.model.name, failure: failure, delivered: broken.delivered)
                        return .failure(walk.failure(kind, at: broken.endedAt))
                    }
                    stream.reset(model: broken.step.model.name, reason: failure.type)
                    break
                }
                guard let primary = runs.first(where: { $0.step.model.name == step.model.name }),
                    case .failure(let failure) = primary.outcome
                else { break }
                if failure.type == .contentFilter, policy.contentFilter[plan.chain] != .fallback {
                    return .failure(walk.failure(.contentFiltered(model: step.model.name, failure: failure), at: primary.endedAt))
                }
                if failure.type == .contextLength {
                    // Never on to a model whose window is no larger than the one that said "too long".
                    walk.passOverSmallerWindows(than: step.model, in: tried[(index + 1)...])
                }
                let othersLeft = tried[(index + 1)...].contains { !walk.isPassedOver($0) && !walk.attempted($0.model.name) }
                guard runs.count == 1,
                    let wait = retryWait(
                        after: failure, step: step, retryIndex: retryIndex, othersLeft: othersLeft, deadline: deadline,
                        at: primary.endedAt, using: &generator)
                else { break }
                retryIndex += 1
                try? await clock.sleep(until: primary.endedAt.adding(millis: wait))
            }
        }
        let end = clock.now()
        if Task.isCancelled { return .failure(walk.failure(.cancelled, at: end)) }
        if walk.attempts.isEmpty, end < deadline {
            // Every model refused at its turn: the same answer as when the plan found them all out.
            return .failure(walk.failure(.allBreakersOpen(retryAt: resilience?.earliestReopening(walk.route)), at: end))
        }
        return .failure(walk.failure(end >= deadline ? .deadlineExceeded : .allModelsFailed, at: end))
    }

    enum PermitDecision {
        /// Call the model (a panic probe or a router without resilience needs no permit).
        case granted(BreakerPermit?)
        /// The breaker moved since planning (another request tripped it or took the probe).
        case refused
    }

    /// A breaker permit for `step`; a refusal marks it passed over with the breaker's reason.
    func takePermit(_ step: RouteStep, walk: inout ChainWalk, at now: Moment) -> PermitDecision {
        guard let resilience, step.reason != .panicProbe else { return .granted(nil) }
        switch resilience.acquire(step.model, at: now) {
        case .allowed(let granted):
            return .granted(granted)
        case .rejected(let phase, let until):
            walk.skip(step, reason: RouteReason(refusedIn: phase), until: until)
            return .refused
        }
    }

    /// Calls `step`'s model once, within its share of the deadline.
    func attempt(
        _ step: RouteStep, permit: BreakerPermit?, request: CompletionRequest, deadline: Moment, later: Int,
        gate: AttemptGate?, hedged: Bool = false
    ) async -> AttemptRun {
        let now = clock.now()
        let attemptDeadline = policy.attemptDeadline(model: step.model, now: now, deadline: deadline, later: later)
        let call = ProviderRequest(model: step.model, chat: request.chat, deadline: attemptDeadline)
        let outcome: Result<ProviderResponse, ProviderFailure>
        if let gate {
            outcome = await invoker.stream(call, to: gate)
            gate.close()
        } else {
            outcome = await invoker.invoke(call)
        }
        return AttemptRun(
            step: step, permit: permit, outcome: outcome, startedAt: now, endedAt: clock.now(),
            committed: gate?.committed ?? false, delivered: gate?.delivered ?? DeliveredPart(), hedged: hedged,
            firstAnswerAt: gate?.firstAnswerAt)
    }

    /// Records a finished attempt everywhere it counts: the walk, breaker, health, parking, call log.
    func remember(_ run: AttemptRun, walk: inout ChainWalk) {
        var record = walk.record(
            run.step.model, outcome: run.outcome, startedAt: run.startedAt, endedAt: run.endedAt, committed: run.committed,
            hedged: run.hedged)
        record.firstTokenMs = run.firstAnswerAt.map { $0.millis(since: run.startedAt) }
        if case .success(let response) = run.outcome {
            record.fallbackCount = walk.fallbackCount(served: run.step.model.name)
            record.primaryCostUSD = walk.primaryCost(of: response.usage, served: run.step.model)
        }
        resilience?.observe(run.step.model, record.callOutcome, permit: run.permit, at: run.endedAt)
        if case .failure(let failure) = run.outcome { resilience?.park(run.step.model, after: failure, at: run.endedAt) }
        if run.step.reason == .panicProbe, record.success {
            // A panic probe that works proves the model is back: close its breaker.
            resilience?.breakers.reset(run.step.model.name, at: run.endedAt)
        }
        recorder.record(record)
    }

    /// How long to wait before retrying the same model, or `nil` to move on at once. A model that
    /// timed out, or asked for a Retry-After, is not waited for while another model can be tried.
    func retryWait(
        after failure: ProviderFailure, step: RouteStep, retryIndex: Int, othersLeft: Bool, deadline: Moment,
        at now: Moment, using generator: inout SystemRandomNumberGenerator
    ) -> Int64? {
        guard let resilience, step.reason != .panicProbe else { return nil }
        if othersLeft, failure.type == .timeout || failure.retryAfterMs != nil { return nil }
        let remaining = deadline.millis(since: now)
        guard let wait = resilience.retry.decide(after: failure, retryIndex: retryIndex, remainingMs: remaining, using: &generator),
            resilience.budget.allowsRetry(provider: step.model.provider)
        else { return nil }
        return wait
    }

    /// When every model that could serve is parked: when the first comes back, if before `deadline`.
    func earliestParking(_ plan: RoutePlan, before deadline: Moment) -> Moment? {
        guard plan.steps.contains(where: { $0.reason == .rateLimitedUntil }) else { return nil }
        let resume = plan.steps.filter { $0.reason == .rateLimitedUntil }.compactMap(\.until).min()
        guard let resume, resume < deadline else { return nil }
        return resume
    }

    /// Why a plan with nothing to try fails: no model can take the request at all, or every one
    /// that could is out (breaker open, parked).
    static func nothingToTry(_ steps: [RouteStep], resilience: Resilience?, estimatedTokens: Int) -> RouteFailure.Kind {
        let unfit = steps.filter { $0.reason == .lacksCapability || $0.reason == .contextTooSmall }
        if unfit.count == steps.count {
            if let capability = unfit.lazy.compactMap(\.capability).first { return .noCapableModel(capability) }
            return .contextTooLarge(estimatedTokens: estimatedTokens)
        }
        return .allBreakersOpen(retryAt: resilience?.earliestReopening(steps))
    }
}

extension Result {
    var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }
}
