/// Plans a request's chain and walks it: the seed's orchestrator, with one overall deadline.
///
/// The router does no I/O itself: models are called through the injected `ModelInvoker`,
/// every attempt goes to the `OutcomeRecorder` the moment it ends, and time comes from the clock.
public struct Router: Sendable {
    public let pool: ModelPool
    public let invoker: any ModelInvoker
    public let recorder: any OutcomeRecorder
    public let planner: any RoutePlanner
    public let clock: any FallbackClock

    public init(
        pool: ModelPool, invoker: any ModelInvoker, recorder: any OutcomeRecorder,
        planner: any RoutePlanner = ConfiguredOrderPlanner(), clock: any FallbackClock = SystemClock()
    ) {
        self.pool = pool
        self.invoker = invoker
        self.recorder = recorder
        self.planner = planner
        self.clock = clock
    }

    /// The chain `request` would walk now. Explicit model names must already be validated.
    public func plan(for request: CompletionRequest, at now: Moment) -> RoutePlan {
        if let names = request.models {
            return planner.plan(chain: RoutePlan.explicitChain, models: names.compactMap { pool.models[$0] }, at: now)
        }
        let (chain, models) = pool.chain(forTask: request.task)
        return planner.plan(chain: chain, models: models, at: now)
    }

    /// Tries each model of the plan in order until one serves or the deadline passes.
    public func execute(_ request: CompletionRequest) async -> Result<CompletionResult, RouteFailure> {
        let start = clock.now()
        let deadline = start.adding(millis: request.timeoutMs)
        let plan = plan(for: request, at: start)
        var walk = ChainWalk(request: request, plan: plan, start: start)

        for step in plan.steps {
            let now = clock.now()
            guard now < deadline else { break }
            if Task.isCancelled { return .failure(walk.failure(.cancelled, at: now)) }
            let attemptDeadline = step.model.timeoutMs.map { min(deadline, now.adding(millis: $0)) } ?? deadline
            let providerRequest = ProviderRequest(
                model: step.model, messages: request.messages,
                maxTokens: min(request.maxTokens, step.model.maxTokens),
                temperature: request.temperature, deadline: attemptDeadline
            )
            let outcome = await invoker.invoke(providerRequest)
            let end = clock.now()
            recorder.record(walk.record(step.model, outcome: outcome, startedAt: now, endedAt: end))
            if case .success(let response) = outcome {
                return .success(walk.result(served: step.model, response: response, at: end))
            }
        }
        let end = clock.now()
        return .failure(walk.failure(end >= deadline ? .deadlineExceeded : .allModelsFailed, at: end))
    }
}

/// The bookkeeping of one walk down a chain.
struct ChainWalk {
    let request: CompletionRequest
    let plan: RoutePlan
    let start: Moment
    var attempts: [AttemptSummary] = []
    var failedModels: Set<String> = []

    init(request: CompletionRequest, plan: RoutePlan, start: Moment) {
        self.request = request
        self.plan = plan
        self.start = start
        attempts.reserveCapacity(plan.steps.count)
    }

    /// Adds the attempt to the summary and returns its call-log row.
    mutating func record(
        _ model: ModelConfig, outcome: Result<ProviderResponse, ProviderFailure>, startedAt: Moment, endedAt: Moment
    ) -> AttemptRecord {
        let latency = endedAt.millis(since: startedAt)
        let summary: AttemptSummary
        switch outcome {
        case .success(let response):
            summary = AttemptSummary(
                model: model.name, provider: model.provider, success: true, errorType: nil,
                httpStatus: response.httpStatus, latencyMs: latency, usage: response.usage,
                costUSD: model.cost(of: response.usage), message: nil
            )
        case .failure(let failure):
            failedModels.insert(model.name)
            summary = AttemptSummary(
                model: model.name, provider: model.provider, success: false, errorType: failure.type,
                httpStatus: failure.httpStatus, latencyMs: latency, usage: failure.usage,
                costUSD: model.cost(of: failure.usage), message: failure.message
            )
        }
        let index = attempts.count
        attempts.append(summary)
        return AttemptRecord(
            requestID: request.requestID, task: request.task, chain: plan.chain, model: model.name,
            provider: model.provider, attemptIndex: index, startedAtMillis: startedAt.unixMillis,
            latencyMs: latency, success: summary.success, errorType: summary.errorType,
            httpStatus: summary.httpStatus, usage: summary.usage, costUSD: summary.costUSD,
            metadataJSON: request.metadataJSON
        )
    }

    func result(served model: ModelConfig, response: ProviderResponse, at end: Moment) -> CompletionResult {
        CompletionResult(
            requestID: request.requestID, content: response.content, model: model, task: request.task,
            chain: plan.chain, fallbackCount: failedModels.subtracting([model.name]).count,
            latencyMs: end.millis(since: start), attempts: attempts, usage: response.usage,
            costUSD: attempts.reduce(0) { $0 + $1.costUSD }, finishReason: response.finishReason
        )
    }

    func failure(_ kind: RouteFailure.Kind, at end: Moment) -> RouteFailure {
        RouteFailure(
            kind: kind, requestID: request.requestID, task: request.task, chain: plan.chain,
            attempts: attempts, latencyMs: end.millis(since: start)
        )
    }
}
