/// The bookkeeping of one walk down a chain: attempts, failed models, and the final route.
struct ChainWalk {
    let request: CompletionRequest
    let plan: RoutePlan
    let start: Moment
    /// The chain's first configured model: what cost deltas are measured against.
    let primary: ModelConfig?
    var attempts: [AttemptSummary] = []
    var failedModels: Set<String> = []
    /// The plan's steps, with reasons updated as the walk passes models over.
    var route: [RouteStep]

    init(request: CompletionRequest, plan: RoutePlan, start: Moment, primary: ModelConfig?) {
        self.request = request
        self.plan = plan
        self.start = start
        self.primary = primary
        route = plan.steps
        attempts.reserveCapacity(plan.steps.count)
    }

    /// Whether the walk decided to pass `step` over after planning.
    func isPassedOver(_ step: RouteStep) -> Bool {
        route.first { $0.model.name == step.model.name }.map { !$0.reason.isTried } ?? false
    }

    /// After `model` said the prompt is too long: passes over the models still to try whose context
    /// window is known and no larger than its own.
    mutating func passOverSmallerWindows(than model: ModelConfig, in steps: ArraySlice<RouteStep>) {
        guard model.contextWindow > 0 else { return }
        for step in steps where step.model.contextWindow > 0 && step.model.contextWindow <= model.contextWindow {
            skip(step, reason: .contextTooSmall)
        }
    }

    /// Marks a planned step as passed over.
    mutating func skip(_ step: RouteStep, reason: RouteReason, until: Moment? = nil) {
        guard let index = route.firstIndex(where: { $0.model.name == step.model.name }) else { return }
        guard !attempts.contains(where: { $0.model == step.model.name }) else { return }
        route[index].reason = reason
        route[index].until = until
    }

    /// Marks steps still due as passed over (one already passed over keeps its own reason).
    mutating func skip(_ steps: ArraySlice<RouteStep>, reason: RouteReason) {
        for step in steps where !isPassedOver(step) { skip(step, reason: reason) }
    }

    /// Adds the attempt to the summary and returns its call-log row.
    /// Whether `model` already had an attempt (a hedge tried it ahead of its turn).
    func attempted(_ model: String) -> Bool {
        attempts.contains { $0.model == model }
    }

    mutating func record(
        _ model: ModelConfig, outcome: Result<ProviderResponse, ProviderFailure>, startedAt: Moment, endedAt: Moment,
        committed: Bool = false, hedged: Bool = false
    ) -> AttemptRecord {
        let latency = endedAt.millis(since: startedAt)
        var summary: AttemptSummary
        switch outcome {
        case .success(let response):
            summary = AttemptSummary(
                model: model.name, provider: model.provider, success: true, errorType: nil,
                httpStatus: response.httpStatus, latencyMs: latency, usage: response.usage,
                costUSD: model.cost(of: response.usage), message: nil
            )
            summary.skippedEvents = response.skippedEvents
        case .failure(let failure):
            failedModels.insert(model.name)
            summary = AttemptSummary(
                model: model.name, provider: model.provider, success: false, errorType: failure.type,
                httpStatus: failure.httpStatus, latencyMs: latency, usage: failure.usage,
                costUSD: model.cost(of: failure.usage), message: failure.message
            )
            summary.skippedEvents = failure.skippedEvents
        }
        summary.committed = committed
        summary.hedged = hedged
        let index = attempts.count
        attempts.append(summary)
        var record = AttemptRecord(
            requestID: request.requestID, task: request.task, chain: plan.chain, model: model.name,
            provider: model.provider, attemptIndex: index, startedAtMillis: startedAt.unixMillis,
            latencyMs: latency, success: summary.success, errorType: summary.errorType,
            httpStatus: summary.httpStatus, usage: summary.usage, costUSD: summary.costUSD,
            metadataJSON: request.metadataJSON
        )
        record.hedged = hedged
        record.app = request.app
        return record
    }

    func result(served model: ModelConfig, response: ProviderResponse, at end: Moment) -> CompletionResult {
        CompletionResult(
            requestID: request.requestID, message: response.message, model: model, task: request.task,
            chain: plan.chain, fallbackCount: fallbackCount(served: model.name),
            latencyMs: end.millis(since: start), attempts: attempts, usage: response.usage,
            costUSD: attempts.reduce(0) { $0 + $1.costUSD }, primaryCostUSD: primaryCost(of: response.usage, served: model),
            finishReason: response.finishReason, providerFinishReason: response.providerFinishReason,
            ignoredFields: response.ignoredFields, route: route
        )
    }

    /// What the primary would have cost for `usage`.
    func primaryCost(of usage: Usage, served: ModelConfig) -> Double {
        (primary ?? served).cost(of: usage)
    }

    /// Models of the configured chain passed over before the one that served: every model configured
    /// ahead of it (failed, skipped by its breaker, or demoted as degraded), plus models configured
    /// after it that were tried first and failed.
    func fallbackCount(served: String) -> Int {
        guard let position = plan.configured.firstIndex(of: served) else { return failedModels.count }
        let behind = plan.configured[(position + 1)...].filter { failedModels.contains($0) }
        return position + behind.count
    }

    func failure(_ kind: RouteFailure.Kind, at end: Moment) -> RouteFailure {
        RouteFailure(
            kind: kind, requestID: request.requestID, task: request.task, chain: plan.chain,
            attempts: attempts, latencyMs: end.millis(since: start), route: route
        )
    }
}

extension AttemptRecord {
    /// The outcome as the breaker and health window see it.
    var callOutcome: CallOutcome {
        CallOutcome(success: success, errorType: errorType, latencyMs: latencyMs)
    }
}
