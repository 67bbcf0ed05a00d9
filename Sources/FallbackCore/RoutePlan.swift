/// Why a model has its place in a request's chain, or why it was passed over.
public enum RouteReason: String, Sendable, Hashable {
    /// In the configured order (no health policy in use).
    case configured
    /// Breaker closed and not degraded: the configured order.
    case healthy
    /// Success rate below the threshold: moved to the end of the chain (the seed's rule).
    case degraded
    /// Several of its calls are late and none answered since: tried after the models answering in
    /// time until one of its calls answers (or the late ones end).
    case lagging
    /// Breaker half-open: this request may carry a probe.
    case halfOpenProbe = "half_open_probe"
    /// Breaker open: skipped until `until`.
    case open
    /// Taken out by an operator (`breaker.isolate`): skipped until `breaker.reset`.
    case isolated
    /// Half-open, but its probes are already out: skipped.
    case probeBusy = "probe_busy"
    /// Not reached before the request's deadline.
    case skippedByDeadline = "skipped_by_deadline"
    /// Every breaker was open and `when_all_open = "try_least_recent"` sent a probe here anyway.
    case panicProbe = "panic_probe"
    /// Priced above the chain's `max_cost_ratio` times the primary: never a fallback.
    case overCostRatio = "over_cost_ratio"
    /// The provider asked to be left alone until `until` (Retry-After): parked for every request.
    case rateLimitedUntil = "rate_limited_until"
    /// The request needs something this model cannot do (`capability` names it).
    case lacksCapability = "lacks_capability"
    /// The request's estimated input plus output does not fit this model's context window, or a
    /// model with a window no larger already said the prompt is too long.
    case contextTooSmall = "context_too_small"

    /// Whether the router will try a model planned with this reason.
    public var isTried: Bool {
        switch self {
        case .configured, .healthy, .degraded, .lagging, .halfOpenProbe, .panicProbe: true
        case .open, .isolated, .probeBusy, .skippedByDeadline, .overCostRatio, .lacksCapability, .contextTooSmall,
            .rateLimitedUntil: false
        }
    }
}

extension RouteReason {
    /// The reason to show for a model whose breaker refused a permit in `phase`.
    public init(refusedIn phase: BreakerPhase) {
        switch phase {
        case .open, .closed: self = .open
        case .halfOpen: self = .probeBusy
        case .isolated: self = .isolated
        }
    }
}

/// One model of a planned chain.
public struct RouteStep: Sendable, Hashable {
    public var model: ModelConfig
    public var reason: RouteReason
    /// For `open`: when the breaker lets a probe through.
    public var until: Moment?
    /// For `lacks_capability`: what the model lacks.
    public var capability: Capability?

    public init(model: ModelConfig, reason: RouteReason, until: Moment? = nil, capability: Capability? = nil) {
        self.model = model
        self.reason = reason
        self.until = until
        self.capability = capability
    }
}

/// The ordered chain one request will walk.
public struct RoutePlan: Sendable, Hashable {
    /// The chain's name: the task's own, `default`, or `explicit`.
    public var chain: String
    /// Tried steps first, in the order they will be tried, then the skipped ones.
    public var steps: [RouteStep]

    /// The chain's models in their configured order, before health and breakers reordered them.
    public var configured: [String]

    public init(chain: String, steps: [RouteStep], configured: [String]? = nil) {
        self.chain = chain
        self.steps = steps
        self.configured = configured ?? steps.map(\.model.name)
    }

    /// The chain name used when a caller lists its own models.
    public static let explicitChain = "explicit"

    /// The steps the router will try.
    public var triedSteps: [RouteStep] { steps.filter { $0.reason.isTried } }
}

/// Orders a chain for one request. The default keeps the configured order; the resilience
/// engine skips open breakers and moves degraded models to the end.
public protocol RoutePlanner: Sendable {
    func plan(chain: String, models: [ModelConfig], at now: Moment) -> RoutePlan
}

/// Keeps the configured order: the seed's plain waterfall.
public struct ConfiguredOrderPlanner: RoutePlanner {
    public init() {}

    public func plan(chain: String, models: [ModelConfig], at now: Moment) -> RoutePlan {
        RoutePlan(chain: chain, steps: models.map { RouteStep(model: $0, reason: .configured) })
    }
}
