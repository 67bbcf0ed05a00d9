/// Plans a request's chain and walks it: the seed's orchestrator, with one overall deadline.
///
/// The router does no I/O itself: models are called through the injected `ModelInvoker`,
/// every attempt goes to the `OutcomeRecorder` the moment it ends, and time comes from the clock
/// (retry waits included, so tests never sleep). With a `Resilience` engine, open breakers are
/// skipped, degraded models go last, and retryable failures are retried within the deadline and
/// the provider's retry budget. The walk itself is in `Router+Walk.swift`, hedging in `Router+Hedge.swift`.
public struct Router: Sendable {
    public let pool: ModelPool
    public let invoker: any ModelInvoker
    public let recorder: any OutcomeRecorder
    public let planner: any RoutePlanner
    public let resilience: Resilience?
    public let clock: any FallbackClock
    /// Attempt budgets, hedging and the content-filter rule.
    public let policy: RoutingPolicy
    /// Caps hedges at a share of requests.
    public let hedgeBudget: HedgeBudget

    public init(
        pool: ModelPool, invoker: any ModelInvoker, recorder: any OutcomeRecorder,
        resilience: Resilience? = nil, clock: any FallbackClock = SystemClock(),
        policy: RoutingPolicy = .default, hedgeBudget: HedgeBudget = HedgeBudget()
    ) {
        self.pool = pool
        self.invoker = invoker
        self.recorder = recorder
        self.resilience = resilience
        self.planner = resilience ?? ConfiguredOrderPlanner()
        self.clock = clock
        self.policy = policy
        self.hedgeBudget = hedgeBudget
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
}
