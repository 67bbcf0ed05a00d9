/// One `complete`, from admission to answer: the task's budget, the shadow that runs beside the
/// request, and the router's walk down the chain. The daemon's handler only parses and encodes.
public struct CompletionService: Sendable {
    public let router: Router
    public let budgets: BudgetLedger?
    public let shadows: ShadowRunner?
    public let clock: any FallbackClock

    /// Why a request got no content.
    public enum Failure: Error, Sendable {
        /// The task's daily budget is spent: nothing was sent to any provider.
        case budget(BudgetRefusal)
        /// The chain was walked (or skipped) without a model serving.
        case route(RouteFailure)
    }

    public init(router: Router, budgets: BudgetLedger? = nil, shadows: ShadowRunner? = nil, clock: any FallbackClock) {
        self.router = router
        self.budgets = budgets
        self.shadows = shadows
        self.clock = clock
    }

    /// Serves `request`; a streaming one streams its answer to `stream`.
    public func complete(_ request: CompletionRequest, stream: (any StreamSink)? = nil) async -> Result<CompletionResult, Failure> {
        let start = clock.now()
        if let refusal = budgets?.check(task: request.task, at: start) {
            return .failure(.budget(refusal))
        }
        let plan = router.plan(for: request, at: start)
        let shadow = shadows?.begin(request, plan: plan, pool: router.pool)
        // Models that are out or demoted get a copy of this request beside it, when due: recovery
        // is proved by probes the caller never waits for.
        if let shadows, let resilience = router.resilience {
            for model in resilience.recoveryProbesDue(plan, at: start) {
                shadows.probe(model, request: request, resilience: resilience)
            }
        }
        let outcome = await router.execute(request, plan: plan, stream: stream)
        // Hands the caller's outcome to the shadow without waiting for it.
        shadow?.finish(outcome)
        return outcome.mapError { .route($0) }
    }
}
