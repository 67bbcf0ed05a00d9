/// Why a model has its place in a request's chain. Later policies (breakers, health) add reasons.
public enum RouteReason: String, Sendable, Hashable {
    /// In the configured order.
    case configured
}

/// One model of a planned chain.
public struct RouteStep: Sendable, Hashable {
    public var model: ModelConfig
    public var reason: RouteReason

    public init(model: ModelConfig, reason: RouteReason) {
        self.model = model
        self.reason = reason
    }
}

/// The ordered chain one request will walk.
public struct RoutePlan: Sendable, Hashable {
    /// The chain's name: the task's own, `default`, or `explicit`.
    public var chain: String
    public var steps: [RouteStep]

    public init(chain: String, steps: [RouteStep]) {
        self.chain = chain
        self.steps = steps
    }

    /// The chain name used when a caller lists its own models.
    public static let explicitChain = "explicit"
}

/// Orders a chain for one request. The default keeps the configured order; later issues add
/// breaker- and health-aware planners behind the same seam.
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
