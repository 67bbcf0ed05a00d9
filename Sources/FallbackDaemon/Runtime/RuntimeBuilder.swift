import FallbackCore
import FallbackProviders
import FallbackRPC

/// Builds a runtime from a config over the shared state; on a reload, carries over what must
/// survive it (the shadow task group, retry and hedge budgets, recovery probes, today's shadow spend).
struct RuntimeBuilder: Sendable {
    let shared: DaemonShared

    func build(_ config: DaemonConfig, previous: DaemonRuntime?) -> DaemonRuntime {
        let clock = shared.clock
        let settings = config.resilience
        let registry = ProviderRegistry.make(settings: config.providers, transport: shared.transport, clock: clock)
        // Budgets and probe schedules keep their state when their settings did not change.
        var budget = RetryBudget(maxTokens: settings.budgetTokens, tokenRatio: settings.budgetRatio)
        var recovery = RecoveryProbes(policy: settings.recovery)
        var hedgeBudget = HedgeBudget(ratio: settings.hedgeBudgetRatio)
        var overdue = OverdueCalls(multiple: settings.overdueMultiple, floorMs: settings.overdueFloorMs)
        if let previous {
            let old = previous.config.resilience
            if old.budgetTokens == settings.budgetTokens, old.budgetRatio == settings.budgetRatio {
                budget = previous.resilience.budget
            }
            if old.recovery == settings.recovery { recovery = previous.resilience.recovery }
            if old.hedgeBudgetRatio == settings.hedgeBudgetRatio { hedgeBudget = previous.hedgeBudget }
            if old.overdueMultiple == settings.overdueMultiple, old.overdueFloorMs == settings.overdueFloorMs {
                overdue = previous.resilience.overdue
            }
        }
        let resilience = Resilience(
            breakers: shared.breakers, health: shared.health, budget: budget, retry: settings.retry,
            whenAllOpen: settings.whenAllOpen, parking: shared.parking, recovery: recovery, overdue: overdue,
            probeLeases: shared.fleet?.leases)
        let sampler = ShadowSampler(policy: config.cost.shadow, models: Array(config.pool.models.values))
        if let previous { sampler.restore(spentToday: previous.sampler.spentToday(at: clock.now()), at: clock.now()) }
        let router = Router(
            pool: config.pool, invoker: registry, recorder: shared.recorder, resilience: resilience, clock: clock,
            policy: settings.routing, hedgeBudget: hedgeBudget)
        let callLog = shared.callLog
        let shadows = previous?.shadows.reconfigured(sampler: sampler, invoker: registry, resilience: resilience)
            ?? ShadowRunner(
                sampler: sampler, invoker: registry, recorder: shared.recorder, resilience: resilience, clock: clock,
                sink: { callLog.recordShadow($0) })
        let service = CompletionService(router: router, budgets: shared.budgets, shadows: shadows, clock: clock)
        let apps = AppRules(config.apps)
        let runner = CompletionRunner(
            service: service, pool: config.pool, requestIDs: shared.requestIDs, clock: clock, metrics: shared.metrics,
            apps: apps, appBudgets: shared.appBudgets)
        return DaemonRuntime(
            config: config, generation: (previous?.generation ?? 0) + 1, resilience: resilience, router: router,
            service: service, runner: runner, sampler: sampler, shadows: shadows, hedgeBudget: hedgeBudget, apps: apps)
    }
}
