import FallbackCore

/// The `[breaker]`, `[health]` and `[retry]` sections, with per-model breaker overrides.
public struct ResilienceConfig: Sendable, Equatable {
    public var breaker: BreakerPolicy = .default
    /// `[models.NAME.breaker]` tables, already merged over `[breaker]`.
    public var breakerOverrides: [String: BreakerPolicy] = [:]
    public var whenAllOpen: AllOpenBehavior = .failFast
    public var health: HealthPolicy = .default
    public var retry: RetryPolicy = .default
    public var budgetTokens: Double = 10
    public var budgetRatio: Double = 0.1
    /// `[routing]` and `[chain_options.NAME]`: attempt reserves, hedges, content filter.
    public var routing: RoutingPolicy = .default
    /// `[routing].hedge_budget_ratio`: at most this share of requests get a hedge.
    public var hedgeBudgetRatio: Double = 0.1
    /// `[routing].overdue_multiple` × a model's median latency (at least `overdue_floor_ms`): past it an
    /// attempt is overdue and gets the next model beside it whatever the hedge budget; 0 turns it off.
    public var overdueMultiple: Double = 5
    public var overdueFloorMs: Int64 = 1_000
    /// `[recovery]`: probes of models that are out or demoted.
    public var recovery = RecoveryProbes.Policy()

    public init() {}
}

enum ResilienceConfigParser {
    static func parse(_ top: inout TOMLReader) throws(ConfigError) -> ResilienceConfig {
        var config = ResilienceConfig()
        if var breaker = try top.subtable("breaker") {
            config.breaker = try breakerPolicy(&breaker, base: .default)
            if let text = try breaker.string("when_all_open") {
                if let behavior = AllOpenBehavior(rawValue: text) {
                    config.whenAllOpen = behavior
                } else {
                    try breaker.report(ConfigError(key: breaker.key("when_all_open"), "must be \"fail_fast\" or \"try_least_recent\""))
                }
            }
            try breaker.rejectUnknownKeys()
        }
        if var health = try top.subtable("health") {
            var policy = HealthPolicy.default
            policy.bucketSeconds = try health.int("bucket_seconds", min: 1) ?? policy.bucketSeconds
            policy.degradedBelow = try health.double("degraded_below", min: 0, max: 1) ?? policy.degradedBelow
            policy.minimumCalls = try health.int("minimum_calls", min: 1) ?? policy.minimumCalls
            policy.reorderWindowMinutes = try health.int("reorder_window_minutes", min: 1, max: policy.spanMinutes)
                ?? policy.reorderWindowMinutes
            config.health = policy
            try health.rejectUnknownKeys()
        }
        if var retry = try top.subtable("retry") {
            var policy = RetryPolicy.default
            policy.maxRetries = try retry.int("max_retries", min: 0) ?? policy.maxRetries
            policy.baseDelayMs = Int64(try retry.int("base_delay_ms", min: 0) ?? Int(policy.baseDelayMs))
            policy.maxDelayMs = Int64(try retry.int("max_delay_ms", min: 0) ?? Int(policy.maxDelayMs))
            config.retry = policy
            config.budgetTokens = try retry.double("budget_tokens", min: 1) ?? config.budgetTokens
            config.budgetRatio = try retry.double("budget_ratio", min: 0, max: 1) ?? config.budgetRatio
            try retry.rejectUnknownKeys()
        }
        if var routing = try top.subtable("routing") {
            config.routing.reservePerModelMs = Int64(
                try routing.int("reserve_per_model_ms", min: 0) ?? Int(config.routing.reservePerModelMs))
            config.hedgeBudgetRatio = try routing.double("hedge_budget_ratio", min: 0, max: 1) ?? config.hedgeBudgetRatio
            config.overdueMultiple = try routing.double("overdue_multiple", min: 0, max: 1_000) ?? config.overdueMultiple
            config.overdueFloorMs = Int64(try routing.int("overdue_floor_ms", min: 0) ?? Int(config.overdueFloorMs))
            try routing.rejectUnknownKeys()
        }
        if var recovery = try top.subtable("recovery") {
            config.recovery.enabled = try recovery.bool("enabled") ?? config.recovery.enabled
            config.recovery.firstIntervalMs = Int64(
                try recovery.int("probe_interval_ms", min: 1) ?? Int(config.recovery.firstIntervalMs))
            config.recovery.maxIntervalMs = Int64(
                try recovery.int("max_probe_interval_ms", min: 1) ?? Int(config.recovery.maxIntervalMs))
            config.recovery.confirmations = try recovery.int("confirm_probes", min: 1, max: 100) ?? config.recovery.confirmations
            config.recovery.confirmIntervalMs = Int64(
                try recovery.int("confirm_interval_ms", min: 0) ?? Int(config.recovery.confirmIntervalMs))
            guard config.recovery.maxIntervalMs >= config.recovery.firstIntervalMs else {
                throw ConfigError(key: recovery.key("max_probe_interval_ms"), "must be at least probe_interval_ms")
            }
            try recovery.rejectUnknownKeys()
        }
        return config
    }

    /// `[chain_options.NAME]`: `hedge_after_ms` or `hedge_after = "p95"`, `on_content_filter`.
    static func chainOptions(_ top: inout TOMLReader, chains: Set<String>, into routing: inout RoutingPolicy) throws(ConfigError) {
        guard var table = try top.subtable("chain_options") else { return }
        for chain in table.table.keys.sorted() {
            guard var options = try table.subtable(chain) else { continue }
            guard chains.contains(chain) || chain == RoutePlan.explicitChain else {
                try options.report(ConfigError(key: options.path, "names no chain" + Suggestion.hint(for: chain, in: chains)))
                continue
            }
            let fixed = try options.int("hedge_after_ms", min: 0)
            let rule = try options.string("hedge_after")
            switch (fixed, rule) {
            case (let ms?, nil): routing.hedges[chain] = .afterMs(Int64(ms))
            case (nil, "p95"?): routing.hedges[chain] = .afterP95
            case (nil, nil): break
            case (nil, let other?): throw ConfigError(key: options.key("hedge_after"), "must be \"p95\", not '\(other)'")
            default: throw ConfigError(key: options.key("hedge_after"), "give hedge_after_ms or hedge_after, not both")
            }
            if let text = try options.string("on_content_filter") {
                guard let policy = ContentFilterPolicy(rawValue: text) else {
                    throw ConfigError(key: options.key("on_content_filter"), "must be \"error\" or \"fallback\"")
                }
                routing.contentFilter[chain] = policy
            }
            try options.rejectUnknownKeys()
        }
    }

    /// Reads breaker keys over `base`; used for `[breaker]` and `[models.NAME.breaker]`.
    static func breakerPolicy(_ reader: inout TOMLReader, base: BreakerPolicy) throws(ConfigError) -> BreakerPolicy {
        var policy = base
        policy.consecutiveFailures = try reader.int("consecutive_failures", min: 0) ?? policy.consecutiveFailures
        if let rate = try reader.double("failure_rate", min: 0, max: 1) {
            policy.failureRateThreshold = rate == 0 ? nil : rate
        }
        policy.windowSize = try reader.int("window", min: 1) ?? policy.windowSize
        policy.minimumCalls = try reader.int("minimum_calls", min: 1) ?? policy.minimumCalls
        if let slow = try reader.int("slow_call_ms", min: 0) {
            policy.slowCallMs = slow == 0 ? nil : Int64(slow)
        }
        policy.slowCallRateThreshold = try reader.double("slow_call_rate", min: 0, max: 1) ?? policy.slowCallRateThreshold
        policy.openMs = Int64(try reader.int("open_ms", min: 1) ?? Int(policy.openMs))
        policy.maxOpenMs = Int64(try reader.int("max_open_ms", min: 1) ?? Int(policy.maxOpenMs))
        policy.backoffMultiplier = try reader.double("backoff_multiplier", min: 1, max: 100) ?? policy.backoffMultiplier
        policy.halfOpenProbes = try reader.int("half_open_probes", min: 1) ?? policy.halfOpenProbes
        policy.authOpenMs = Int64(try reader.int("auth_open_ms", min: 1) ?? Int(policy.authOpenMs))
        if let rate = try reader.double("timeout_rate", min: 0, max: 1) {
            policy.timeoutRateThreshold = rate == 0 ? nil : rate
        }
        if let hang = try reader.int("hang_after_ms", min: 0) {
            policy.hangAfterMs = hang == 0 ? nil : Int64(hang)
        }
        guard policy.maxOpenMs >= policy.openMs else {
            throw ConfigError(key: reader.key("max_open_ms"), "must be at least open_ms (\(policy.openMs))")
        }
        return policy
    }
}
