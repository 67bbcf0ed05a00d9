import FallbackRPC

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
}

/// The result of `shadow.report`: one entry per (primary, shadow) pair, ordered by primary then shadow.
public struct ShadowReport: Sendable {
    /// The period, `[since, until)`, ISO-8601 UTC.
    public var since: String
    public var until: String
    /// The `days` the period was asked as; `nil` when it was given as since/until.
    public var days: Int?
    public var pairs: [ShadowPair]
    /// The whole result object.
    public var raw: JSON

    /// Decodes a `shadow.report` result.
    /// - Throws: `.protocolError` when it lacks a `pairs` array or an entry lacks its models.
    public init(json: JSON) throws(FallbackClientError) {
        guard let entries = json["pairs"]?.arrayValue else {
            throw .protocolError("shadow.report result lacks a \"pairs\" array: \(FallbackClient.excerpt(of: json))")
        }
        pairs = try entries.map { (entry) throws(FallbackClientError) -> ShadowPair in
            guard let pair = ShadowPair(json: entry) else {
                throw .protocolError("shadow.report pair without its models: \(FallbackClient.excerpt(of: entry))")
            }
            return pair
        }
        since = json["since"]?.stringValue ?? ""
        until = json["until"]?.stringValue ?? ""
        days = json["days"]?.roundedInt
        raw = json
    }
}
