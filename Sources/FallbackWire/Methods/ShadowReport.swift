/// How a shadow model did against the model it shadowed, over the period of `shadow.report`.
///
/// The ratios and the mean similarity cover only the calls where both sides succeeded; they are
/// `nil` when there was no such call.
public struct ShadowPair: Sendable, Equatable {
    /// The model that served the callers.
    public var primaryModel: String
    /// The backup model that ran in parallel.
    public var shadowModel: String
    /// Comparisons stored for the pair.
    public var calls: Int
    /// Share of `calls` where the caller's request succeeded, 0...1.
    public var primarySuccessRate: Double
    /// Share of `calls` where the shadow call succeeded, 0...1.
    public var shadowSuccessRate: Double
    /// Mean shadow latency / mean primary latency (above 1: the shadow is slower).
    public var latencyRatio: Double?
    /// Shadow cost / primary cost, summed (below 1: the shadow is cheaper).
    public var costRatio: Double?
    /// Mean token-set (Jaccard) similarity of the two outputs, 0...1.
    public var meanSimilarity: Double?

    public init(
        primaryModel: String, shadowModel: String, calls: Int = 0, primarySuccessRate: Double = 0,
        shadowSuccessRate: Double = 0, latencyRatio: Double? = nil, costRatio: Double? = nil, meanSimilarity: Double? = nil
    ) {
        self.primaryModel = primaryModel
        self.shadowModel = shadowModel
        self.calls = calls
        self.primarySuccessRate = primarySuccessRate
        self.shadowSuccessRate = shadowSuccessRate
        self.latencyRatio = latencyRatio
        self.costRatio = costRatio
        self.meanSimilarity = meanSimilarity
    }

    /// Reads one entry of `pairs`; `nil` without string `primary_model` and `shadow_model`.
    public init?(json: JSON) {
        guard let primary = json["primary_model"]?.stringValue, let shadow = json["shadow_model"]?.stringValue else {
            return nil
        }
        self.init(
            primaryModel: primary, shadowModel: shadow, calls: json["calls"]?.roundedInt ?? 0,
            primarySuccessRate: json["primary_success_rate"]?.doubleValue ?? 0,
            shadowSuccessRate: json["shadow_success_rate"]?.doubleValue ?? 0,
            latencyRatio: json["latency_ratio"]?.doubleValue, costRatio: json["cost_ratio"]?.doubleValue,
            meanSimilarity: json["mean_similarity"]?.doubleValue
        )
    }

    /// One entry of `shadow.report`'s `pairs`.
    public var json: JSON {
        [
            "primary_model": .string(primaryModel), "shadow_model": .string(shadowModel), "calls": .int(calls),
            "primary_success_rate": .double(primarySuccessRate), "shadow_success_rate": .double(shadowSuccessRate),
            "latency_ratio": .optional(latencyRatio), "cost_ratio": .optional(costRatio),
            "mean_similarity": .optional(meanSimilarity),
        ]
    }
}

/// The result of `shadow.report`: one entry per (primary, shadow) pair, ordered by primary then shadow.
public struct ShadowReport: Sendable {
    /// The period, `[since, until)`, ISO-8601 UTC and Unix milliseconds.
    public var since: String
    public var until: String
    public var sinceMs: Int
    public var untilMs: Int
    /// The `days` the period was asked as; `nil` when it was given as since/until.
    public var days: Int?
    public var pairs: [ShadowPair]
    /// The whole result object (`nil` for a report built in code).
    public var raw: JSON?

    public init(since: String, until: String, sinceMs: Int, untilMs: Int, days: Int?, pairs: [ShadowPair]) {
        self.since = since
        self.until = until
        self.sinceMs = sinceMs
        self.untilMs = untilMs
        self.days = days
        self.pairs = pairs
    }

    /// Decodes a `shadow.report` result.
    /// - Throws: when it lacks a `pairs` array or an entry lacks its models.
    public init(json: JSON) throws(WireError) {
        guard let entries = json["pairs"]?.arrayValue else { throw WireError(field: "result.pairs", "must be an array") }
        pairs = try entries.enumerated().map { (index, entry) throws(WireError) -> ShadowPair in
            guard let pair = ShadowPair(json: entry) else {
                throw WireError(field: "result.pairs[\(index)]", "needs primary_model and shadow_model")
            }
            return pair
        }
        since = json["since"]?.stringValue ?? ""
        until = json["until"]?.stringValue ?? ""
        sinceMs = json["since_ms"]?.roundedInt ?? 0
        untilMs = json["until_ms"]?.roundedInt ?? 0
        days = json["days"]?.roundedInt
        raw = json
    }

    /// The `shadow.report` result.
    public var json: JSON {
        [
            "since": .string(since), "until": .string(until), "since_ms": .int(sinceMs), "until_ms": .int(untilMs),
            "days": .optional(days), "pairs": .array(pairs.map(\.json)),
        ]
    }
}
