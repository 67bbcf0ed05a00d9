/// Plans a request's chain and walks it: the seed's orchestrator, with one overall deadline.
///
/// The router does no I/O itself: models are called through the injected `ModelInvoker`,
/// every attempt goes to the `OutcomeRecorder` the moment it ends, and time comes from the clock
/// (retry waits included, so tests never sleep). With a `Resilience` engine, open breakers are
/// skipped, degraded models go last, and retryable failures are retried within the deadline and
/// the provider's retry budget.
public struct Router: Sendable {
    public let pool: ModelPool
    public let invoker: any ModelInvoker
    public let recorder: any OutcomeRecorder
    public let planner: any RoutePlanner
    public let resilience: Resilience?
    public let clock: any FallbackClock

    public init(
        pool: ModelPool, invoker: any ModelInvoker, recorder: any OutcomeRecorder,
        resilience: Resilience? = nil, clock: any FallbackClock = SystemClock()
    ) {
        self.pool = pool
        self.invoker = invoker
        self.recorder = recorder
        self.resilience = resilience
        self.planner = resilience ?? ConfiguredOrderPlanner()
        self.clock = clock
    }

    /// The chain a task would walk now, for the `route` method.
    public func plan(task: String, at now: Moment) -> RoutePlan {
        let (chain, models) = pool.chain(forTask: task)
        return guarded(planner.plan(chain: chain, models: models, at: now))
    }

    /// The chain `request` would walk now: models that cannot take it (a capability it needs, a
    /// context window it does not fit) are passed over with the reason, the rest planned as usual.
    /// Explicit model names must already be validated.
    public func plan(for request: CompletionRequest, at now: Moment) -> RoutePlan {
        let chain: String
        let models: [ModelConfig]
        if let names = request.models {
            (chain, models) = (RoutePlan.explicitChain, names.compactMap { pool.models[$0] })
        } else {
            (chain, models) = pool.chain(forTask: request.task)
        }
        let fit = ModelFit(request: request.chat)
        var unfit: [RouteStep] = []
        var fitting: [ModelConfig] = []
        for model in models {
            if let step = fit.refusal(of: model) { unfit.append(step) } else { fitting.append(model) }
        }
        var plan = planner.plan(chain: chain, models: fitting, at: now)
        plan.steps += unfit
        plan.configured = models.map(\.name)
        return chain == RoutePlan.explicitChain ? plan : guarded(plan)
    }

    /// `plan` with the chain's `max_cost_ratio` applied: fallbacks priced above it are skipped.
    func guarded(_ plan: RoutePlan) -> RoutePlan {
        guard let ratio = pool.maxCostRatio[plan.chain], let first = plan.configured.first, let primary = pool.models[first]
        else { return plan }
        var guarded = plan
        for index in guarded.steps.indices where guarded.steps[index].model.name != primary.name {
            if guarded.steps[index].reason.isTried, !CostGuard.allows(guarded.steps[index].model, primary: primary, maxRatio: ratio) {
                guarded.steps[index].reason = .overCostRatio
                guarded.steps[index].until = nil
            }
        }
        // Tried steps first, as the router walks them.
        guarded.steps = guarded.steps.filter(\.reason.isTried) + guarded.steps.filter { !$0.reason.isTried }
        return guarded
    }

    /// Tries the planned models in order until one serves or the deadline passes. With a `stream`
    /// sink and a streaming request, answers stream to it under the commit contract: until a model's
    /// first delta reaches the caller its failures fall back invisibly; after it, a failure ends
    /// the request as interrupted, or (`on_interrupt: restart`) resets the caller and moves on.
    public func execute(_ request: CompletionRequest, stream: (any StreamSink)? = nil) async -> Result<CompletionResult, RouteFailure> {
        // Only a request that asked to stream streams, whoever offers a sink.
        let stream = request.chat.stream ? stream : nil
        let start = clock.now()
        let deadline = start.adding(millis: request.timeoutMs)
        let plan = plan(for: request, at: start)
        var walk = ChainWalk(request: request, plan: plan, start: start, primary: plan.configured.first.flatMap { pool.models[$0] })
        let tried = plan.triedSteps
        if tried.isEmpty, !plan.steps.isEmpty {
            let kind = Self.nothingToTry(plan.steps, resilience: resilience, estimatedTokens: request.chat.estimatedInputTokens)
            return .failure(walk.failure(kind, at: start))
        }
        var generator = SystemRandomNumberGenerator()
        for (index, step) in tried.enumerated() where !walk.isPassedOver(step) {
            var retryIndex = 0
            while true {
                let now = clock.now()
                guard now < deadline else {
                    walk.skip(tried[index...], reason: .skippedByDeadline)
                    return .failure(walk.failure(.deadlineExceeded, at: now))
                }
                if Task.isCancelled { return .failure(walk.failure(.cancelled, at: now)) }
                var permit: BreakerPermit?
                if let resilience, step.reason != .panicProbe {
                    switch resilience.acquire(step.model, at: now) {
                    case .allowed(let granted):
                        permit = granted
                    case .rejected(let phase, let until):
                        // The breaker moved since planning: another request tripped it or took the probe.
                        walk.skip(step, reason: RouteReason(refusedIn: phase), until: until)
                    }
                    guard permit != nil else { break }
                }
                let gate = stream.map { AttemptGate(model: step.model.name, sink: $0) }
                let outcome = await invoke(step.model, request: request, deadline: deadline, at: now, gate: gate)
                gate?.close()
                let end = clock.now()
                var record = walk.record(step.model, outcome: outcome, startedAt: now, endedAt: end, committed: gate?.committed ?? false)
                if case .success(let response) = outcome {
                    record.fallbackCount = walk.fallbackCount(served: step.model.name)
                    record.primaryCostUSD = walk.primaryCost(of: response.usage, served: step.model)
                }
                resilience?.observe(step.model, record.callOutcome, permit: permit, at: end)
                if step.reason == .panicProbe, record.success {
                    // A panic probe that works proves the model is back: close its breaker.
                    resilience?.breakers.reset(step.model.name, at: end)
                }
                recorder.record(record)
                switch outcome {
                case .success(let response):
                    // The caller has the answer; the last delta says why it ended and what it used.
                    stream?.delta(ChatDelta(finishReason: response.finishReason, usage: response.usage), model: step.model.name)
                    return .success(walk.result(served: step.model, response: response, at: end))
                case .failure(let failure) where gate?.committed == true:
                    // Part of this model's answer reached the caller: never passed off as a whole one.
                    guard request.onInterrupt == .restart, let stream, let gate else {
                        let delivered = gate?.delivered ?? DeliveredPart()
                        return .failure(walk.failure(.interrupted(model: step.model.name, failure: failure, delivered: delivered), at: end))
                    }
                    stream.reset(model: gate.model, reason: failure.type)
                case .failure(let failure):
                    if failure.type == .contextLength {
                        // Never on to a model whose window is no larger than the one that said "too long".
                        walk.passOverSmallerWindows(than: step.model, in: tried[(index + 1)...])
                    }
                    guard let wait = retryWait(after: failure, step: step, retryIndex: retryIndex, deadline: deadline, at: end, using: &generator)
                    else { break }
                    retryIndex += 1
                    try? await clock.sleep(until: end.adding(millis: wait))
                    continue
                }
                break
            }
        }
        let end = clock.now()
        if Task.isCancelled { return .failure(walk.failure(.cancelled, at: end)) }
        if walk.attempts.isEmpty, end < deadline {
            // Every breaker refused at its turn: the same answer as when the plan found them all open.
            return .failure(walk.failure(.allBreakersOpen(retryAt: resilience?.earliestReopening(walk.route)), at: end))
        }
        return .failure(walk.failure(end >= deadline ? .deadlineExceeded : .allModelsFailed, at: end))
    }

    /// Why a plan with nothing to try fails: no model can take the request at all, or every one
    /// that could has an open breaker.
    static func nothingToTry(_ steps: [RouteStep], resilience: Resilience?, estimatedTokens: Int) -> RouteFailure.Kind {
        let unfit = steps.filter { $0.reason == .lacksCapability || $0.reason == .contextTooSmall }
        if unfit.count == steps.count {
            if let capability = unfit.lazy.compactMap(\.capability).first { return .noCapableModel(capability) }
            return .contextTooLarge(estimatedTokens: estimatedTokens)
        }
        return .allBreakersOpen(retryAt: resilience?.earliestReopening(steps))
    }

    private func invoke(
        _ model: ModelConfig, request: CompletionRequest, deadline: Moment, at now: Moment, gate: AttemptGate?
    ) async -> Result<ProviderResponse, ProviderFailure> {
        let attemptDeadline = model.timeoutMs.map { min(deadline, now.adding(millis: $0)) } ?? deadline
        let call = ProviderRequest(model: model, chat: request.chat, deadline: attemptDeadline)
        guard let gate else { return await invoker.invoke(call) }
        return await invoker.stream(call, to: gate)
    }

    /// How long to wait before retrying the same model, or `nil` to move on at once.
    private func retryWait(
        after failure: ProviderFailure, step: RouteStep, retryIndex: Int, deadline: Moment, at now: Moment,
        using generator: inout SystemRandomNumberGenerator
    ) -> Int64? {
        guard let resilience, step.reason != .panicProbe else { return nil }
        let remaining = deadline.millis(since: now)
        guard let wait = resilience.retry.decide(after: failure, retryIndex: retryIndex, remainingMs: remaining, using: &generator),
            resilience.budget.allowsRetry(provider: step.model.provider)
        else { return nil }
        return wait
    }
}
