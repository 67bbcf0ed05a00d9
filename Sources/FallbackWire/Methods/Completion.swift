/// The result of `complete`: the served message whole, which model gave it, every attempt on the
/// way, and what it cost. The daemon encodes it with ``json``; clients decode it with ``init(json:)``.
public struct Completion: Sendable {
    /// The assistant's text; `nil` when it only called tools.
    public var content: String?
    /// The tool calls the model made (finish reason `tool_calls`).
    public var toolCalls: [ToolCall]
    /// The model's refusal, when it refused.
    public var refusal: String?
    /// `stop`, `length`, `tool_calls` or `content_filter`; `nil` from an older daemon.
    public var finishReason: FinishReason?
    /// The serving provider's own reason (`end_turn`, `MAX_TOKENS`).
    public var providerFinishReason: String?
    /// The pool name of the model that answered (`claude-3-5-sonnet`).
    public var modelUsed: String
    /// The provider's id for that model (`claude-3-5-sonnet-20241022`).
    public var modelID: String
    /// The provider entry that served it (`anthropic`).
    public var provider: String
    /// The task asked for.
    public var task: String
    /// The chain that ran: a task name, or `explicit` when `models` was given.
    public var chain: String
    /// How many models of the chain were passed over before the one that answered.
    public var fallbackCount: Int
    /// Whether a model other than the chain's first answered.
    public var usedFallback: Bool
    /// Total time in the daemon, in milliseconds.
    public var latencyMs: Int
    /// Every attempt, in order (a retried model appears once per attempt); the last one succeeded.
    public var attempts: [Attempt]
    /// Tokens of the successful call.
    public var usage: Usage
    /// What every attempt of the request cost together, in US dollars (failed attempts cost what
    /// the provider billed).
    public var costUSD: Double
    /// What the chain's first model would have cost for the same tokens; `nil` from a daemon without the cost ledger.
    public var primaryCostUSD: Double?
    /// `costUSD - primaryCostUSD`: what falling back (and failed attempts) cost extra; negative when
    /// it saved money. `nil` from a daemon without the cost ledger.
    public var fallbackCostDeltaUSD: Double?
    /// The daemon's id for this request (`r-...`), as in its call log.
    public var requestID: String
    /// Every model of the chain in the order the daemon planned it, skipped ones last, each with its reason.
    public var route: [RouteEntry]
    /// Request fields the serving model could not take and went without.
    public var ignoredFields: [String]
    /// The whole `result` object, for fields this type does not model.
    public var raw: JSON?

    public init(
        content: String?, toolCalls: [ToolCall] = [], refusal: String? = nil, finishReason: FinishReason? = .stop,
        providerFinishReason: String? = nil, modelUsed: String, modelID: String = "", provider: String = "",
        task: String = "", chain: String = "", fallbackCount: Int = 0, usedFallback: Bool? = nil, latencyMs: Int = 0,
        attempts: [Attempt] = [], usage: Usage = .zero, costUSD: Double = 0, primaryCostUSD: Double? = nil,
        fallbackCostDeltaUSD: Double? = nil, requestID: String = "", route: [RouteEntry] = [], ignoredFields: [String] = []
    ) {
        self.content = content
        self.toolCalls = toolCalls
        self.refusal = refusal
        self.finishReason = finishReason
        self.providerFinishReason = providerFinishReason
        self.modelUsed = modelUsed
        self.modelID = modelID
        self.provider = provider
        self.task = task
        self.chain = chain
        self.fallbackCount = fallbackCount
        self.usedFallback = usedFallback ?? (fallbackCount > 0)
        self.latencyMs = latencyMs
        self.attempts = attempts
        self.usage = usage
        self.costUSD = costUSD
        self.primaryCostUSD = primaryCostUSD
        self.fallbackCostDeltaUSD = fallbackCostDeltaUSD
        self.requestID = requestID
        self.route = route
        self.ignoredFields = ignoredFields
    }

    /// The served message as OpenAI shapes it.
    public var message: AssistantMessage { AssistantMessage(content: content, toolCalls: toolCalls, refusal: refusal) }

    /// One model tried for a request.
    public struct Attempt: Sendable, Equatable {
        /// The pool name of the model.
        public var model: String
        /// The provider entry that served it.
        public var provider: String
        /// `success` or `error`.
        public var outcome: String
        /// Why it failed (`rate_limited`, `timeout`, ...); `nil` on success.
        public var errorType: String?
        /// The provider's HTTP status, when there was a response.
        public var httpStatus: Int?
        /// How long the attempt took, in milliseconds.
        public var latencyMs: Int
        /// What the provider billed for it.
        public var costUSD: Double
        /// The provider's own words for a failure, free of credentials.
        public var message: String?
        /// Streaming: whether this attempt's deltas reached the caller.
        public var committed: Bool
        /// Streaming: malformed events skipped after the commit.
        public var skippedEvents: Int
        /// Started beside a slower attempt (a hedge).
        public var hedged: Bool

        /// Whether this attempt produced the answer.
        public var succeeded: Bool { outcome == "success" }

        public init(
            model: String, provider: String, outcome: String, errorType: String? = nil,
            httpStatus: Int? = nil, latencyMs: Int = 0, costUSD: Double = 0, message: String? = nil,
            committed: Bool = false, skippedEvents: Int = 0, hedged: Bool = false
        ) {
            self.committed = committed
            self.skippedEvents = skippedEvents
            self.hedged = hedged
            self.model = model
            self.provider = provider
            self.outcome = outcome
            self.errorType = errorType
            self.httpStatus = httpStatus
            self.latencyMs = latencyMs
            self.costUSD = costUSD
            self.message = message
        }

        /// Reads an attempt object; missing members get empty defaults.
        public init(json: JSON) {
            self.init(
                model: json["model"]?.stringValue ?? "",
                provider: json["provider"]?.stringValue ?? "",
                outcome: json["outcome"]?.stringValue ?? "",
                errorType: json["error_type"]?.stringValue,
                httpStatus: json["http_status"]?.intValue,
                latencyMs: json["latency_ms"]?.roundedInt ?? 0,
                costUSD: json["cost_usd"]?.doubleValue ?? 0,
                message: json["message"]?.stringValue,
                committed: json["committed"]?.boolValue ?? false,
                skippedEvents: json["skipped_events"]?.roundedInt ?? 0,
                hedged: json["hedged"]?.boolValue ?? false
            )
        }

        public var json: JSON {
            [
                "model": .string(model), "provider": .string(provider), "outcome": .string(outcome),
                "error_type": .optional(errorType), "http_status": .optional(httpStatus), "latency_ms": .int(latencyMs),
                "cost_usd": .double(costUSD), "message": .optional(message), "committed": .bool(committed),
                "skipped_events": .int(skippedEvents), "hedged": .bool(hedged),
            ]
        }

        /// Reads an `attempts` array; anything else gives none.
        public static func list(_ json: JSON?) -> [Attempt] {
            json?.arrayValue?.map(Attempt.init(json:)) ?? []
        }
    }

    /// Decodes a `complete` result.
    ///
    /// `model_used` is required; other members default to empty values, so a newer daemon that adds
    /// or drops optional fields still decodes.
    public init(json: JSON) throws(WireError) {
        guard json.kind == .object else { throw WireError(field: "result", "is not an object") }
        guard let modelUsed = json["model_used"]?.stringValue else { throw WireError(field: "result.model_used", "must be a string") }
        let attempts = Attempt.list(json["attempts"])
        let fallbackCount = json["fallback_count"]?.intValue ?? max(0, attempts.count - 1)
        self.init(
            content: json["content"]?.stringValue,
            toolCalls: (json["tool_calls"]?.arrayValue ?? []).compactMap(ToolCall.init(json:)),
            refusal: json["refusal"]?.stringValue,
            finishReason: json["finish_reason"]?.stringValue.flatMap(FinishReason.init(rawValue:)),
            providerFinishReason: json["provider_finish_reason"]?.stringValue,
            modelUsed: modelUsed, modelID: json["model_id"]?.stringValue ?? "",
            provider: json["provider"]?.stringValue ?? "", task: json["task"]?.stringValue ?? "",
            chain: json["chain"]?.stringValue ?? "", fallbackCount: fallbackCount,
            usedFallback: json["used_fallback"]?.boolValue, latencyMs: json["latency_ms"]?.roundedInt ?? 0,
            attempts: attempts, usage: Usage(json: json["usage"]), costUSD: json["cost_usd"]?.doubleValue ?? 0,
            primaryCostUSD: json["primary_cost_usd"]?.doubleValue,
            fallbackCostDeltaUSD: json["fallback_cost_delta_usd"]?.doubleValue,
            requestID: json["request_id"]?.stringValue ?? "", route: RouteEntry.list(json["route"]),
            ignoredFields: (json["ignored_fields"]?.arrayValue ?? []).compactMap(\.stringValue))
        raw = json
    }

    /// The result object as the daemon writes it (docs/protocol.md, `complete`).
    public var json: JSON {
        [
            "content": .optional(content),
            "tool_calls": .array(toolCalls.map(\.json)),
            "refusal": .optional(refusal),
            "finish_reason": .optional(finishReason?.rawValue),
            "provider_finish_reason": .optional(providerFinishReason),
            "model_used": .string(modelUsed),
            "model_id": .string(modelID),
            "provider": .string(provider),
            "task": .string(task),
            "chain": .string(chain),
            "fallback_count": .int(fallbackCount),
            "used_fallback": .bool(usedFallback),
            "latency_ms": .int(latencyMs),
            "attempts": .array(attempts.map(\.json)),
            "usage": usage.json,
            "cost_usd": .double(costUSD),
            "primary_cost_usd": .optional(primaryCostUSD),
            "fallback_cost_delta_usd": .optional(fallbackCostDeltaUSD),
            "ignored_fields": .array(ignoredFields.map { .string($0) }),
            "request_id": .string(requestID),
            "route": .array(route.map(\.json)),
        ]
    }
}

extension Completion: CustomStringConvertible {
    /// The summary line fallbackctl prints, e.g.
    /// `served by claude-3-5-sonnet (anthropic) after 1 fallback · 812 ms · $0.000636`.
    public var summary: String {
        var line = "served by \(modelUsed)"
        if !provider.isEmpty { line += " (\(provider))" }
        switch fallbackCount {
        case 0: line += " with no fallback"
        case 1: line += " after 1 fallback"
        default: line += " after \(fallbackCount) fallbacks"
        }
        return line + " · \(latencyMs) ms · $\(Self.formatCost(costUSD))"
    }

    /// What the request cost against its primary, e.g.
    /// `primary would have cost $0.000660 · delta -$0.000024 (saved)`; `nil` from a daemon without the cost ledger.
    public var costComparison: String? {
        guard let primaryCostUSD else { return nil }
        let delta = fallbackCostDeltaUSD ?? costUSD - primaryCostUSD
        // Below half a micro-dollar the delta shows as 0, without a sign (binary doubles rarely give exactly 0).
        let shown = abs(delta) < 0.000_000_5 || !delta.isFinite ? 0 : delta
        let (sign, note) = shown > 0 ? ("+", " (extra)") : shown < 0 ? ("-", " (saved)") : ("", "")
        return "primary would have cost $\(Self.formatCost(primaryCostUSD)) · "
            + "delta \(sign)$\(Self.formatCost(abs(shown)))\(note)"
    }

    public var description: String { "\(content ?? "")\n\(summary)" }

    /// A dollar amount with six decimals (`0.000636`), without a locale.
    public static func formatCost(_ dollars: Double) -> String {
        guard dollars.isFinite else { return "?" }
        guard abs(dollars) < 1e9 else { return "\(dollars)" }
        let micros = Int((abs(dollars) * 1_000_000).rounded())
        let fraction = String(micros % 1_000_000)
        let padded = String(repeating: "0", count: 6 - fraction.count) + fraction
        return (dollars < 0 ? "-" : "") + "\(micros / 1_000_000).\(padded)"
    }
}

extension JSON {
    /// An integer, or a real rounded to one; `nil` for other kinds and out-of-range reals.
    public var roundedInt: Int? {
        if let intValue { return intValue }
        return doubleValue.flatMap { Int(exactly: $0.rounded()) }
    }
}
