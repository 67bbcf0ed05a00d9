import Synchronization

/// Runs sampled shadow calls on a backup model beside the caller's request.
///
/// The shadow starts with the request, as a child of the runner's task group (``run()``, which the
/// daemon runs as a service), so it never delays the caller's reply and never changes it; it shares
/// the request's deadline, so it is cut there. Its attempt counts toward the shadow model's breaker
/// and health (fresh data on backups is the point) and goes to the call log marked as shadow; once
/// both sides are done, the comparison goes to `sink`.
public struct ShadowRunner: Sendable {
    public let sampler: ShadowSampler
    public let invoker: any ModelInvoker
    public let recorder: any OutcomeRecorder
    public let resilience: Resilience?
    public let clock: any FallbackClock
    /// Receives each finished comparison (the call log's `shadow_results`).
    public let sink: @Sendable (ShadowResult) -> Void
    private let jobs: AsyncStream<@Sendable () async -> Void>
    private let submit: AsyncStream<@Sendable () async -> Void>.Continuation

    public init(
        sampler: ShadowSampler, invoker: any ModelInvoker, recorder: any OutcomeRecorder, resilience: Resilience?,
        clock: any FallbackClock, sink: @escaping @Sendable (ShadowResult) -> Void
    ) {
        self.sampler = sampler
        self.invoker = invoker
        self.recorder = recorder
        self.resilience = resilience
        self.clock = clock
        self.sink = sink
        (jobs, submit) = AsyncStream.makeStream(of: (@Sendable () async -> Void).self)
    }

    /// The same task group (and its shutdown) with a reloaded config's sampler, models and resilience.
    public func reconfigured(sampler: ShadowSampler, invoker: any ModelInvoker, resilience: Resilience?) -> ShadowRunner {
        ShadowRunner(copying: self, sampler: sampler, invoker: invoker, resilience: resilience)
    }

    private init(copying other: ShadowRunner, sampler: ShadowSampler, invoker: any ModelInvoker, resilience: Resilience?) {
        self.sampler = sampler
        self.invoker = invoker
        self.resilience = resilience
        recorder = other.recorder
        clock = other.clock
        sink = other.sink
        jobs = other.jobs
        submit = other.submit
    }

    /// Runs every shadow as a child of one task group until ``close()`` and the last shadow ends.
    /// Cancelling the calling task cancels the running shadows (their attempts end as cancelled).
    public func run() async {
        await withDiscardingTaskGroup { group in
            for await job in jobs {
                group.addTask { await job() }
            }
        }
    }

    /// Starts no more shadows; ``run()`` returns once the running ones end.
    public func close() {
        submit.finish()
    }

    /// Decides whether `request` gets a shadow and starts it. `plan` is the request's route: the shadow
    /// model pairs with the first model the router will try. Returns the handle to finish, or `nil`.
    public func begin(_ request: CompletionRequest, plan: @autoclosure () -> RoutePlan, pool: ModelPool) -> ShadowHandle? {
        let start = clock.now()
        // The plan is only built for sampled requests: most requests pay one sampler draw and nothing else.
        guard sampler.decide(task: request.task, optIn: request.shadow, at: start) else { return nil }
        let plan = plan()
        guard let first = plan.triedSteps.first?.model else { return nil }
        let chain = plan.configured.compactMap { pool.models[$0] }
        guard let model = sampler.shadowModel(for: first, chain: chain) else { return nil }
        // The chain's cost guard holds for shadows too: never sample onto a model it would not fall back to.
        if let ratio = pool.maxCostRatio[plan.chain], let primary = chain.first,
            !CostGuard.allows(model, primary: primary, maxRatio: ratio)
        {
            return nil
        }
        var acquired: BreakerPermit?
        if let resilience {
            guard case .allowed(let granted) = resilience.acquire(model, at: start) else { return nil }
            acquired = granted
        }
        let permit = acquired
        let (primaryOutcomes, continuation) = AsyncStream.makeStream(of: ShadowSide.self, bufferingPolicy: .bufferingNewest(1))
        let runner = self
        let started = submit.yield {
            let shadow = await runner.call(model, request: request, permit: permit, start: start)
            var iterator = primaryOutcomes.makeAsyncIterator()
            guard let primary = await iterator.next() else { return }
            runner.sampler.addSpend(shadow.costUSD, at: runner.clock.now())
            // The primary fell back onto the shadow's own model: comparing a model with itself says nothing.
            guard primary.model != shadow.model else { return }
            runner.sink(
                ShadowResult(
                    requestID: request.requestID, task: request.task, startedAtMillis: start.unixMillis,
                    primary: primary, shadow: shadow, similarity: primary.success && shadow.success
                        ? Similarity.jaccard(primary.text, shadow.text) : nil
                )
            )
        }
        guard case .enqueued = started else {
            // Closed for shutdown: give the permit back unused.
            if let permit {
                _ = resilience?.breakers.record(model.name, CallOutcome(success: false, errorType: .cancelled, latencyMs: 0), permit: permit, at: start)
            }
            return nil
        }
        return ShadowHandle(continuation: continuation)
    }

    /// Mirrors `request` (without streaming) to `model`, which is out or demoted, as a recovery
    /// probe: its outcome closes the breaker and clears the demotion, or counts as the open period's
    /// probe. Logged with chain `probe` and counted with shadow calls; never on the caller's path.
    public func probe(_ model: ModelConfig, request: CompletionRequest, resilience: Resilience) {
        let runner = self
        let started = submit.yield {
            let start = runner.clock.now()
            var chat = request.chat
            chat.stream = false
            let deadline = start.adding(millis: min(request.timeoutMs, model.timeoutMs ?? request.timeoutMs))
            let outcome = await runner.invoker.invoke(ProviderRequest(model: model, chat: chat, deadline: deadline))
            let end = runner.clock.now()
            var success = false
            var usage = Usage.zero
            var errorType: ErrorType?
            var status: Int?
            switch outcome {
            case .success(let response):
                success = true
                usage = response.usage
                status = response.httpStatus
            case .failure(let failure):
                usage = failure.usage
                errorType = failure.type
                status = failure.httpStatus
            }
            let latency = end.millis(since: start)
            let cost = model.cost(of: usage)
            // A cancelled probe (shutdown) proves nothing either way.
            if errorType == .cancelled {
                resilience.recovery.finish(model.name, success: false, at: end)
            } else {
                resilience.observe(model, CallOutcome(success: success, errorType: errorType, latencyMs: latency), permit: nil, at: end)
                // An answer that came overdue does not prove the model is back: a slow model stays out.
                let late = resilience.overdueMs(model.name, at: end).map { latency > $0 } ?? false
                resilience.recoveryProbeEnded(model, success: success && !late, at: end)
            }
            runner.sampler.addSpend(cost, at: end)
            var record = AttemptRecord(
                requestID: request.requestID, task: request.task, chain: "probe", model: model.name, provider: model.provider,
                attemptIndex: 0, startedAtMillis: start.unixMillis, latencyMs: latency, success: success, errorType: errorType,
                httpStatus: status, usage: usage, costUSD: cost, metadataJSON: request.metadataJSON)
            record.shadow = true
            record.app = request.app
            runner.recorder.record(record)
        }
        if case .enqueued = started { return }
        resilience.recovery.finish(model.name, success: false, at: clock.now())
    }

    /// Calls the shadow model under the request's deadline, feeds breaker, health and call log.
    func call(_ model: ModelConfig, request: CompletionRequest, permit: BreakerPermit?, start: Moment) async -> ShadowSide {
        let deadline = start.adding(millis: request.timeoutMs)
        let attemptDeadline = model.timeoutMs.map { min(deadline, start.adding(millis: $0)) } ?? deadline
        let outcome = await invoker.invoke(ProviderRequest(model: model, chat: request.chat, deadline: attemptDeadline))
        let end = clock.now()
        let latency = end.millis(since: start)
        let side: ShadowSide
        switch outcome {
        case .success(let response):
            side = ShadowSide(
                model: model.name, success: true, errorType: nil, latencyMs: latency, usage: response.usage,
                costUSD: model.cost(of: response.usage), outputLength: response.content.count, text: response.content
            )
        case .failure(let failure):
            side = ShadowSide(
                model: model.name, success: false, errorType: failure.type, latencyMs: latency, usage: failure.usage,
                costUSD: model.cost(of: failure.usage), outputLength: 0
            )
        }
        let callOutcome = CallOutcome(success: side.success, errorType: side.errorType, latencyMs: latency)
        resilience?.observe(model, callOutcome, permit: permit, at: end)
        var record = AttemptRecord(
            requestID: request.requestID, task: request.task, chain: "shadow", model: model.name, provider: model.provider,
            attemptIndex: 0, startedAtMillis: start.unixMillis, latencyMs: latency, success: side.success,
            errorType: side.errorType, httpStatus: nil, usage: side.usage, costUSD: side.costUSD, metadataJSON: request.metadataJSON
        )
        record.shadow = true
        record.app = request.app
        recorder.record(record)
        return side
    }
}

/// Hands the caller's outcome to a running shadow; never waits.
public struct ShadowHandle: Sendable {
    let continuation: AsyncStream<ShadowSide>.Continuation

    /// The request is answered: give the shadow the primary side to compare with.
    public func finish(_ outcome: Result<CompletionResult, RouteFailure>) {
        switch outcome {
        case .success(let result):
            continuation.yield(
                ShadowSide(
                    model: result.model.name, success: true, errorType: nil, latencyMs: result.latencyMs,
                    usage: result.usage, costUSD: result.costUSD, outputLength: result.content.count, text: result.content
                )
            )
        case .failure(let failure):
            let last = failure.attempts.last
            continuation.yield(
                ShadowSide(
                    model: last?.model ?? "", success: false, errorType: last?.errorType, latencyMs: failure.latencyMs,
                    usage: .zero, costUSD: failure.attempts.reduce(0) { $0 + $1.costUSD }, outputLength: 0
                )
            )
        }
        continuation.finish()
    }
}
