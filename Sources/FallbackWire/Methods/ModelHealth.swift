/// One model's recent health, as the `health` method reports it.
public struct ModelHealth: Sendable, Equatable {
    /// The pool name of the model.
    public var model: String
    /// The provider entry that serves it.
    public var provider: String
    /// The window the numbers cover, in minutes (the result's `window_minutes`).
    public var windowMinutes: Int
    /// Counted calls in the window: fallbackd's own attempts and `report`s, except cancelled,
    /// invalid_request, context_length and content_filter outcomes.
    public var calls: Int
    public var successes: Int
    /// `successes / calls`; 1.0 when there were no calls.
    public var successRate: Double
    /// Mean latency of the counted calls, in milliseconds (0 without calls).
    public var avgLatencyMs: Double
    /// Latency percentile estimates in milliseconds (within 12%; 0 without calls).
    public var p50LatencyMs: Int
    public var p95LatencyMs: Int
    public var p99LatencyMs: Int
    /// At least `[health].minimum_calls` calls in this window and a success rate below `degraded_below`.
    public var degraded: Bool
    /// The model's breaker now.
    public var breaker: BreakerState
    /// While the breaker is open: when a probe may go, as ISO-8601 UTC.
    public var breakerUntil: String?
    /// With a fleet: the peer whose trip opened the breaker here (`"breaker_source": "peer"`, `"breaker_opened_by"`).
    public var breakerOpenedBy: String?
    /// With a fleet: the same window over every sidecar's calls (`"fleet"`); absent without one.
    public var fleet: FleetHealth?

    public init(
        model: String, provider: String = "", windowMinutes: Int = 15, calls: Int = 0, successes: Int = 0,
        successRate: Double = 1, avgLatencyMs: Double = 0, p50LatencyMs: Int = 0, p95LatencyMs: Int = 0,
        p99LatencyMs: Int = 0, degraded: Bool = false, breaker: BreakerState = .closed, breakerUntil: String? = nil,
        breakerOpenedBy: String? = nil, fleet: FleetHealth? = nil
    ) {
        self.breakerOpenedBy = breakerOpenedBy
        self.fleet = fleet
        self.model = model
        self.provider = provider
        self.windowMinutes = windowMinutes
        self.calls = calls
        self.successes = successes
        self.successRate = successRate
        self.avgLatencyMs = avgLatencyMs
        self.p50LatencyMs = p50LatencyMs
        self.p95LatencyMs = p95LatencyMs
        self.p99LatencyMs = p99LatencyMs
        self.degraded = degraded
        self.breaker = breaker
        self.breakerUntil = breakerUntil
    }

    /// Reads one entry of the `health` result's `models`; `nil` when it has no string `model`.
    public init?(json: JSON, windowMinutes: Int) {
        guard let model = json["model"]?.stringValue else { return nil }
        self.init(model: model, provider: json["provider"]?.stringValue ?? "", windowMinutes: windowMinutes)
        calls = json["calls"]?.roundedInt ?? 0
        successes = json["successes"]?.roundedInt ?? 0
        successRate = json["success_rate"]?.doubleValue ?? 1
        avgLatencyMs = json["avg_latency_ms"]?.doubleValue ?? 0
        p50LatencyMs = json["p50_latency_ms"]?.roundedInt ?? 0
        p95LatencyMs = json["p95_latency_ms"]?.roundedInt ?? 0
        p99LatencyMs = json["p99_latency_ms"]?.roundedInt ?? 0
        degraded = json["degraded"]?.boolValue ?? false
        breaker = BreakerState(rawValue: json["breaker"]?.stringValue ?? "")
        breakerUntil = json["breaker_until"]?.stringValue
        breakerOpenedBy = json["breaker_opened_by"]?.stringValue
        fleet = json["fleet"].flatMap { FleetHealth(json: $0) }
    }

    /// Reads a whole `health` result.
    /// - Throws: when `models` is missing or an entry has no model name.
    public static func list(json: JSON) throws(WireError) -> [ModelHealth] {
        guard let entries = json["models"]?.arrayValue else { throw WireError(field: "result.models", "must be an array") }
        let window = json["window_minutes"]?.roundedInt ?? 0
        return try entries.enumerated().map { (index, entry) throws(WireError) -> ModelHealth in
            guard let health = ModelHealth(json: entry, windowMinutes: window) else {
                throw WireError(field: "result.models[\(index)].model", "must be a string")
            }
            return health
        }
    }

    /// One entry of the `health` result's `models`.
    public var json: JSON {
        var object: JSON = [
            "model": .string(model), "provider": .string(provider), "calls": .int(calls), "successes": .int(successes),
            "success_rate": .double(successRate), "avg_latency_ms": .double(avgLatencyMs),
            "p50_latency_ms": .int(p50LatencyMs), "p95_latency_ms": .int(p95LatencyMs), "p99_latency_ms": .int(p99LatencyMs),
            "degraded": .bool(degraded), "breaker": .string(breaker.rawValue), "breaker_until": .optional(breakerUntil),
        ]
        if let breakerOpenedBy {
            object["breaker_source"] = "peer"
            object["breaker_opened_by"] = .string(breakerOpenedBy)
        }
        if let fleet { object["fleet"] = fleet.json }
        return object
    }

    /// The whole `health` result for `models` over `windowMinutes`.
    public static func result(_ models: [ModelHealth], windowMinutes: Int) -> JSON {
        ["window_minutes": .int(windowMinutes), "models": .array(models.map(\.json))]
    }
}
