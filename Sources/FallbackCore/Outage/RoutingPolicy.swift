import Synchronization

/// How the router spends a request's deadline across its chain: the time each attempt leaves for
/// the models still to try, hedging a slow first attempt, and what a content-filter refusal does.
public struct RoutingPolicy: Sendable, Hashable {
    /// Each model still to try after the current one reserves this much of the remaining deadline
    /// (at most half of it in all), so a silent model cannot eat the whole request.
    public var reservePerModelMs: Int64
    /// Per chain: when to start the next model beside a first attempt that has produced nothing.
    public var hedges: [String: HedgeRule]
    /// Per chain: what a content-filter refusal does.
    public var contentFilter: [String: ContentFilterPolicy]

    public init(
        reservePerModelMs: Int64 = 5_000, hedges: [String: HedgeRule] = [:],
        contentFilter: [String: ContentFilterPolicy] = [:]
    ) {
        self.reservePerModelMs = reservePerModelMs
        self.hedges = hedges
        self.contentFilter = contentFilter
    }

    public static let `default` = RoutingPolicy()

    /// The deadline of an attempt started at `now` with `later` models still to try after it: the
    /// model's own timeout, and the request's deadline minus the reserve for those models
    /// (`min(later × reservePerModelMs, remaining / 2)`).
    public func attemptDeadline(model: ModelConfig, now: Moment, deadline: Moment, later: Int) -> Moment {
        let remaining = deadline.millis(since: now)
        let reserve = min(Int64(max(0, later)) * max(0, reservePerModelMs), remaining / 2)
        var end = deadline.adding(millis: -reserve)
        if let timeout = model.timeoutMs { end = min(end, now.adding(millis: timeout)) }
        return end
    }
}

/// When to hedge: start the chain's next model beside the first attempt once it has produced
/// nothing for this long.
public enum HedgeRule: Sendable, Hashable {
    case afterMs(Int64)
    /// The first model's exact p95 latency over its latest 256 answers (no hedge until it has
    /// `[health].minimum_calls` of them).
    case afterP95
}

/// What a provider's content-filter refusal does to the request.
public enum ContentFilterPolicy: String, Sendable, Hashable {
    /// The caller gets a clean error with the provider's reason (the default).
    case error
    /// Try the next model.
    case fallback
}

/// Caps hedges at a share of requests: each request adds `ratio` of a token, each hedge spends one.
/// Counted in thousandths, so ten deposits of 0.1 make exactly one hedge.
public final class HedgeBudget: Sendable {
    public let ratio: Double
    public let maxTokens: Double
    private let perRequest: Int
    private let cap: Int
    private let tokens: Mutex<Int>

    public init(ratio: Double = 0.1, maxTokens: Double = 10) {
        self.ratio = max(0, ratio)
        self.maxTokens = max(1, maxTokens)
        perRequest = Int((max(0, ratio) * 1_000).rounded())
        cap = Int(max(1, maxTokens) * 1_000)
        // A full bucket lets a burst hedge at start; a zero ratio means no hedges at all.
        tokens = Mutex(ratio > 0 ? Int(max(1, maxTokens) * 1_000) : 0)
    }

    /// A request started: it earns its share of a hedge.
    public func deposit() {
        tokens.withLock { $0 = min(cap, $0 + perRequest) }
    }

    /// Takes a hedge if the budget has one.
    public func take() -> Bool {
        tokens.withLock { tokens in
            guard tokens >= 1_000 else { return false }
            tokens -= 1_000
            return true
        }
    }
}
