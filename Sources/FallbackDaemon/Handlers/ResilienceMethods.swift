import FallbackCore
import FallbackFleet
import FallbackRPC
import FallbackStore

/// `health`, `breakers`, `breaker.reset`, `breaker.isolate`, `route`, `report`.
struct ResilienceMethods: Sendable {
    let router: Router
    let resilience: Resilience
    let pool: ModelPool
    let recorder: any OutcomeRecorder
    let clock: any FallbackClock
    let requestIDs: RequestIDGenerator
    /// With `[fleet]`: the fleet's view, shown beside the local numbers.
    var fleet: FleetView? = nil

    func register(in table: inout RPCMethodTable) {
        table.register("health", .immediate { health($0) })
        table.register("breakers", .immediate { _ in .success(breakers()) })
        table.register("breaker.reset", .immediate { operate($0, isolate: false) })
        table.register("breaker.isolate", .immediate { operate($0, isolate: true) })
        table.register("route", .immediate { route($0) })
        table.register("report", .immediate { report($0) })
    }

    func health(_ params: JSON?) -> Result<JSON, RPCError> {
        var window = 15
        if let value = params?["window_minutes"], !value.isNull {
            guard let minutes = value.intValue, (1...resilience.health.policy.spanMinutes).contains(minutes) else {
                return .failure(.invalidParams(field: "window_minutes", "must be an integer from 1 to \(resilience.health.policy.spanMinutes)"))
            }
            window = minutes
        }
        let now = clock.now()
        let models = pool.modelsByPriority.map { model in
            let stats = resilience.health.stats(model.name, windowMinutes: window, at: now)
            let breaker = resilience.breakers.status(model.name, at: now)
            return ModelHealth(
                model: model.name, provider: model.provider, windowMinutes: window, calls: stats.calls,
                successes: stats.successes, successRate: stats.successRate, avgLatencyMs: stats.avgLatencyMs,
                p50LatencyMs: Int(stats.p50LatencyMs), p95LatencyMs: Int(stats.p95LatencyMs),
                p99LatencyMs: Int(stats.p99LatencyMs), degraded: stats.degraded,
                breaker: BreakerState(rawValue: breaker.phase.rawValue),
                breakerUntil: breaker.openUntil.map { TimeText.iso($0, now: now) }, breakerOpenedBy: breaker.openedByPeer,
                fleet: fleet.map { fleetHealth(model.name, view: $0, windowMinutes: window, at: now) })
        }
        return .success(ModelHealth.result(models, windowMinutes: window))
    }

    /// `model`'s numbers over every sidecar's buckets.
    func fleetHealth(_ model: String, view: FleetView, windowMinutes: Int, at now: Moment) -> FleetHealth {
        let (stats, hosts) = view.fleetHealth(model, local: resilience.health, windowMinutes: windowMinutes, at: now)
        return FleetHealth(
            calls: stats.calls, successes: stats.successes, successRate: stats.successRate, avgLatencyMs: stats.avgLatencyMs,
            degraded: stats.degraded, hosts: hosts)
    }

    func breakers() -> JSON {
        let now = clock.now()
        return ["breakers": .array(pool.modelsByPriority.map { breakerInfo($0.name, resilience.breakers.status($0.name, at: now), now: now).json })]
    }

    func breakerInfo(_ model: String, _ status: BreakerStatus, now: Moment) -> BreakerInfo {
        BreakerInfo(
            model: model, state: BreakerState(rawValue: status.phase.rawValue),
            until: status.openUntil.map { TimeText.iso($0, now: now) },
            untilMs: status.openUntil.map { Int(TimeText.unixMillis($0, now: now)) },
            consecutiveFailures: status.consecutiveFailures, failureRate: status.failureRate, slowRate: status.slowRate,
            callsInWindow: status.callsInWindow, trips: status.trips, level: status.level,
            misconfigured: status.misconfigured, lastTripReason: status.lastTripReason, probesInFlight: status.probesInFlight,
            openedBy: status.openedByPeer)
    }

    func operate(_ params: JSON?, isolate: Bool) -> Result<JSON, RPCError> {
        let model: ModelConfig
        switch modelParam(params) {
        case .success(let found): model = found
        case .failure(let error): return .failure(error)
        }
        let now = clock.now()
        if isolate {
            resilience.breakers.isolate(model.name, at: now)
        } else {
            resilience.breakers.reset(model.name, at: now)
        }
        return .success(breakerInfo(model.name, resilience.breakers.status(model.name, at: now), now: now).json)
    }

    func route(_ params: JSON?) -> Result<JSON, RPCError> {
        var task = ModelPool.defaultChain
        if let value = params?["task"], !value.isNull {
            guard let name = value.stringValue, !name.isEmpty else { return .failure(.invalidParams(field: "task", "must be a non-empty string")) }
            task = name
        }
        let now = clock.now()
        let plan = router.plan(task: task, at: now)
        var entries = ResultEncoding.routeEntries(plan.steps, clock: clock)
        for index in entries.indices where entries[index].reason == .open || entries[index].reason == .probeBusy {
            entries[index].openedBy = resilience.breakers.status(entries[index].model, at: now).openedByPeer
        }
        return .success(ChainRoute(task: task, chain: plan.chain, route: entries).json)
    }

    func modelParam(_ params: JSON?) -> Result<ModelConfig, RPCError> {
        guard let name = params?["model"]?.stringValue else {
            return .failure(.invalidParams(field: "model", "is required: a model name from the pool"))
        }
        guard let model = pool.models[name] else {
            return .failure(.invalidParams(field: "model", "unknown model '\(name)'; see the `models` method"))
        }
        return .success(model)
    }
}
