import FallbackRPC

/// The result of `complete`: the answer, which model gave it, and every attempt on the way.
public struct Completion: Sendable {
    /// The assistant's text.
    public var content: String
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
    /// How many models failed before one answered.
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
    /// What the chain's first model would have cost for the same input and output tokens;
    /// `nil` from a daemon without the cost ledger.
    public var primaryCostUSD: Double?
    /// `costUSD - primaryCostUSD`: what falling back (and failed attempts) cost extra; negative when
    /// it saved money. `nil` from a daemon without the cost ledger.
    public var fallbackCostDeltaUSD: Double?
    /// The daemon's id for this request (`r-...`), as in its call log.
    public var requestID: String
    /// Every model of the chain in the order the daemon planned it, skipped ones last, each with
    /// its reason (`healthy`, `degraded`, `open`, ...). Empty from a daemon without breakers.
    public var route: [RouteEntry]
    /// The whole `result` object, for fields this type does not model.
    public var raw: JSON

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

        /// Whether this attempt produced the answer.
        public var succeeded: Bool { outcome == "success" }

        public init(
            model: String, provider: String, outcome: String, errorType: String? = nil,
            httpStatus: Int? = nil, latencyMs: Int = 0
        ) {
            self.model = model
            self.provider = provider
            self.outcome = outcome
            self.errorType = errorType
            self.httpStatus = httpStatus
            self.latencyMs = latencyMs
        }

        /// Reads an attempt object; missing members get empty defaults.
        public init(json: JSON) {
            self.init(
                model: json["model"]?.stringValue ?? "",
                provider: json["provider"]?.stringValue ?? "",
                outcome: json["outcome"]?.stringValue ?? "",
                errorType: json["error_type"]?.stringValue,
                httpStatus: json["http_status"]?.intValue,
                latencyMs: json["latency_ms"]?.roundedInt ?? 0
            )
        }
    }

    /// Token counts of the successful call.
    public struct Usage: Sendable, Equatable {
        public var inputTokens: Int
        public var outputTokens: Int

        public init(inputTokens: Int = 0, outputTokens: Int = 0) {
            self.inputTokens = inputTokens
            self.outputTokens = outputTokens
        }
    }

    /// Decodes a `complete` result.
    ///
    /// `content` and `model_used` are required; other members default to empty values,
    /// so a newer daemon that adds or drops optional fields still decodes.
    /// - Throws: `.protocolError` when the result is not an object or lacks a required member.
    public init(json: JSON) throws(FallbackClientError) {
        guard json.kind == .object else {
            throw .protocolError("complete result is not an object: \(FallbackClient.excerpt(of: json))")
        }
        guard let content = json["content"]?.stringValue else {
            throw .protocolError("complete result lacks a string \"content\": \(FallbackClient.excerpt(of: json))")
        }
        guard let modelUsed = json["model_used"]?.stringValue else {
            throw .protocolError("complete result lacks a string \"model_used\": \(FallbackClient.excerpt(of: json))")
        }
        self.content = content
        self.modelUsed = modelUsed
        modelID = json["model_id"]?.stringValue ?? ""
        provider = json["provider"]?.stringValue ?? ""
        task = json["task"]?.stringValue ?? ""
        chain = json["chain"]?.stringValue ?? ""
        attempts = json["attempts"]?.arrayValue?.map(Attempt.init(json:)) ?? []
        fallbackCount = json["fallback_count"]?.intValue ?? max(0, attempts.count - 1)
        usedFallback = json["used_fallback"]?.boolValue ?? (fallbackCount > 0)
        latencyMs = json["latency_ms"]?.roundedInt ?? 0
        usage = Usage(
            inputTokens: json["usage"]?["input_tokens"]?.intValue ?? 0,
            outputTokens: json["usage"]?["output_tokens"]?.intValue ?? 0
        )
        costUSD = json["cost_usd"]?.doubleValue ?? 0
        primaryCostUSD = json["primary_cost_usd"]?.doubleValue
        fallbackCostDeltaUSD = json["fallback_cost_delta_usd"]?.doubleValue
        requestID = json["request_id"]?.stringValue ?? ""
        route = RouteEntry.list(json["route"])
        raw = json
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

    public var description: String { "\(content)\n\(summary)" }

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
    var roundedInt: Int? {
        if let intValue { return intValue }
        return doubleValue.flatMap { Int(exactly: $0.rounded()) }
    }
}
