/// The result of `ready` (and the body of `GET /readyz`): whether the daemon can serve.
public struct Readiness: Sendable, Equatable {
    /// One model of the default chain and its breaker.
    public struct ChainModel: Sendable, Equatable {
        public var model: String
        public var breaker: String

        public init(model: String, breaker: String) {
            self.model = model
            self.breaker = breaker
        }
    }

    /// The call log takes writes and a model of the default chain may be called.
    public var ready: Bool
    /// `ok` or `failing` (the last flush with rows failed).
    public var store: String
    public var defaultChain: [ChainModel]
    /// Why not ready; `nil` when ready.
    public var reason: String?

    public init(ready: Bool, store: String, defaultChain: [ChainModel], reason: String? = nil) {
        self.ready = ready
        self.store = store
        self.defaultChain = defaultChain
        self.reason = reason
    }

    public init(json: JSON) throws(WireError) {
        guard let ready = json["ready"]?.boolValue else { throw WireError(field: "result.ready", "must be a boolean") }
        self.init(
            ready: ready, store: json["store"]?.stringValue ?? "",
            defaultChain: (json["default_chain"]?.arrayValue ?? []).map {
                ChainModel(model: $0["model"]?.stringValue ?? "", breaker: $0["breaker"]?.stringValue ?? "")
            },
            reason: json["reason"]?.stringValue)
    }

    public var json: JSON {
        var object: JSON = [
            "ready": .bool(ready), "store": .string(store),
            "default_chain": .array(defaultChain.map { ["model": .string($0.model), "breaker": .string($0.breaker)] }),
        ]
        if let reason { object["reason"] = .string(reason) }
        return object
    }
}

/// The result of `stats`: per model, counters since the daemon started (a client takes rates from
/// two readings, as `fallbackctl top` does).
public struct ModelStats: Sendable, Equatable {
    public var model: String
    public var provider: String
    /// Attempts of callers' requests (shadow calls and probes not included).
    public var attempts: Int
    public var successes: Int
    public var costUSD: Double
    /// Shadow calls and recovery probes.
    public var shadowCalls: Int

    public init(model: String, provider: String, attempts: Int, successes: Int, costUSD: Double, shadowCalls: Int) {
        self.model = model
        self.provider = provider
        self.attempts = attempts
        self.successes = successes
        self.costUSD = costUSD
        self.shadowCalls = shadowCalls
    }

    public init(json: JSON) {
        self.init(
            model: json["model"]?.stringValue ?? "", provider: json["provider"]?.stringValue ?? "",
            attempts: json["attempts"]?.roundedInt ?? 0, successes: json["successes"]?.roundedInt ?? 0,
            costUSD: json["cost_usd"]?.doubleValue ?? 0, shadowCalls: json["shadow_calls"]?.roundedInt ?? 0)
    }

    public var json: JSON {
        [
            "model": .string(model), "provider": .string(provider), "attempts": .int(attempts),
            "successes": .int(successes), "cost_usd": .double(costUSD), "shadow_calls": .int(shadowCalls),
        ]
    }
}

/// One attempt as `attempts.recent` returns it (the call log's row, before it is even flushed).
public struct RecentAttempt: Sendable, Equatable {
    /// Increases by one per attempt since start: pass the last one seen as `after` to follow.
    public var seq: Int
    /// Start, ISO-8601 UTC.
    public var ts: String
    public var requestID: String
    public var task: String
    public var chain: String
    public var model: String
    public var provider: String
    /// `success` or `error`.
    public var outcome: String
    public var errorType: String?
    public var httpStatus: Int?
    public var latencyMs: Int
    public var costUSD: Double
    public var app: String?
    /// `shadow` or `probe` for shadow calls and recovery probes; `nil` for callers' attempts.
    public var kind: String?
    public var hedged: Bool

    public init(
        seq: Int, ts: String, requestID: String, task: String, chain: String, model: String, provider: String,
        outcome: String, errorType: String?, httpStatus: Int?, latencyMs: Int, costUSD: Double, app: String?,
        kind: String?, hedged: Bool
    ) {
        self.seq = seq
        self.ts = ts
        self.requestID = requestID
        self.task = task
        self.chain = chain
        self.model = model
        self.provider = provider
        self.outcome = outcome
        self.errorType = errorType
        self.httpStatus = httpStatus
        self.latencyMs = latencyMs
        self.costUSD = costUSD
        self.app = app
        self.kind = kind
        self.hedged = hedged
    }

    public init(json: JSON) {
        self.init(
            seq: json["seq"]?.roundedInt ?? 0, ts: json["ts"]?.stringValue ?? "",
            requestID: json["request_id"]?.stringValue ?? "", task: json["task"]?.stringValue ?? "",
            chain: json["chain"]?.stringValue ?? "", model: json["model"]?.stringValue ?? "",
            provider: json["provider"]?.stringValue ?? "", outcome: json["outcome"]?.stringValue ?? "",
            errorType: json["error_type"]?.stringValue, httpStatus: json["http_status"]?.roundedInt,
            latencyMs: json["latency_ms"]?.roundedInt ?? 0, costUSD: json["cost_usd"]?.doubleValue ?? 0,
            app: json["app"]?.stringValue, kind: json["kind"]?.stringValue, hedged: json["hedged"]?.boolValue ?? false)
    }

    public var json: JSON {
        [
            "seq": .int(seq), "ts": .string(ts), "request_id": .string(requestID), "task": .string(task),
            "chain": .string(chain), "model": .string(model), "provider": .string(provider), "outcome": .string(outcome),
            "error_type": .optional(errorType), "http_status": .optional(httpStatus), "latency_ms": .int(latencyMs),
            "cost_usd": .double(costUSD), "app": .optional(app), "kind": .optional(kind), "hedged": .bool(hedged),
        ]
    }
}
