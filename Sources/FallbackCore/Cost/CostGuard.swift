/// The optional per-chain price guard (`max_cost_ratio`): a fallback may not go to a model whose price is
/// more than `maxRatio` times the chain primary's, so an outage of a cheap model never silently moves
/// traffic to one that costs ten times as much.
///
/// A model's price is its per-1k input price plus its per-1k output price (the seed's prices give
/// gpt-4o 0.02, claude-3-5-sonnet 0.018, gpt-4o-mini 0.00075, claude-3-haiku 0.0015). The comparison
/// forgives a relative rounding error of 1e-9, so a ratio that is exactly the limit in decimal
/// (0.0015 / 0.00075 = 2.0) is allowed even though binary doubles may miss it by an ulp.
public struct CostGuard: Sendable {
    /// The relative slack that absorbs binary rounding of decimal prices.
    static let tolerance = 1e-9

    /// The price the guard compares: `costPer1kInput + costPer1kOutput`.
    public static func price(_ model: ModelConfig) -> Double {
        model.costPer1kInput + model.costPer1kOutput
    }

    /// How many times the primary's price `candidate` costs; `nil` when the primary is free
    /// (every ratio to a free primary is infinite or undefined).
    public static func ratio(_ candidate: ModelConfig, primary: ModelConfig) -> Double? {
        let base = price(primary)
        guard base > 0 else { return nil }
        return price(candidate) / base
    }

    /// Whether the chain may fall back to `candidate` under a guard of `maxRatio` over `primary`.
    ///
    /// - The primary itself (same pool name) is always allowed: the guard only limits fallbacks.
    /// - A candidate priced at exactly `maxRatio` times the primary is allowed; anything above is refused.
    /// - A free primary (price 0) allows only free candidates.
    /// - A free candidate is always allowed; a negative or NaN `maxRatio` counts as 0.
    public static func allows(_ candidate: ModelConfig, primary: ModelConfig, maxRatio: Double) -> Bool {
        if candidate.name == primary.name { return true }
        let candidatePrice = price(candidate)
        if candidatePrice <= 0 { return true }
        let base = price(primary)
        guard base > 0 else { return false }
        let limit = maxRatio.isNaN ? 0 : max(0, maxRatio)
        if limit == .infinity { return true }
        return candidatePrice <= base * limit * (1 + tolerance)
    }
}
