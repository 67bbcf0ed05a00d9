import FallbackCore
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
        let models: [JSON] = pool.modelsByPriority.map { model in
            let stats = resilience.health.stats(model.name, windowMinutes: window, at: now)
            let breaker = resilience.breakers.status(model.name, at: now)
            return [
                "model": .string(model.name),
                "provider": .string(model.provider),
                "calls": .int(stats.calls),
                "successes": .int(stats.successes),
                "success_rate": .double(stats.successRate),
                "avg_latency_ms": .double(stats.avgLatencyMs),
                "p50_latency_ms": .int(Int(stats.p50LatencyMs)),
                "p95_latency_ms": .int(Int(stats.p95LatencyMs)),
                "p99_latency_ms": .int(Int(stats.p99LatencyMs)),
                "degraded": .bool(stats.degraded),
                "breaker": .string(breaker.phase.rawValue),
                "breaker_until": breaker.openUntil.map { .string(TimeText.iso($0, now: now)) } ?? .null,
            ]
        }
        return .success(["window_minutes": .int(window), "models": .array(models)])
    }

    func breakers() -> JSON {
        let now = clock.now()
        return ["breakers": .array(pool.modelsByPriority.map { breakerJSON($0.name, resilience.breakers.status($0.name, at: now), now: now) })]
    }

    func breakerJSON(_ model: String, _ status: BreakerStatus, now: Moment) -> JSON {
        [
            "model": .string(model),
            "state": .string(status.phase.rawValue),
            "until": status.openUntil.map { .string(TimeText.iso($0, now: now)) } ?? .null,
            "until_ms": status.openUntil.map { .int(Int(TimeText.unixMillis($0, now: now))) } ?? .null,
            "consecutive_failures": .int(status.consecutiveFailures),
            "failure_rate": status.failureRate.map { .double($0) } ?? .null,
            "slow_rate": status.slowRate.map { .double($0) } ?? .null,
            "calls_in_window": .int(status.callsInWindow),
            "trips": .int(status.trips),
            "level": .int(status.level),
            "misconfigured": .bool(status.misconfigured),
            "last_trip_reason": .optional(status.lastTripReason),
            "probes_in_flight": .int(status.probesInFlight),
        ]
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
        return .success(breakerJSON(model.name, resilience.breakers.status(model.name, at: now), now: now))
    }

    func route(_ params: JSON?) -> Result<JSON, RPCError> {
        var task = ModelPool.defaultChain
        if let value = params?["task"], !value.isNull {
            guard let name = value.stringValue, !name.isEmpty else { return .failure(.invalidParams(field: "task", "must be a non-empty string")) }
            task = name
        }
        let plan = router.plan(task: task, at: clock.now())
        return .success([
            "task": .string(task), "chain": .string(plan.chain),
            "route": ResultEncoding.route(plan.steps, clock: clock),
        ])
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
