import FallbackCore

/// The `[budgets]`, `[max_cost_ratio]` and `[shadow]` sections.
public struct CostConfig: Sendable, Equatable {
    /// USD per UTC day, per task.
    public var budgets: [String: Double] = [:]
    /// Per chain: the most a fallback may cost as a multiple of the primary's price.
    public var maxCostRatio: [String: Double] = [:]
    public var shadow = ShadowPolicy()

    public init() {}
}

enum CostConfigParser {
    static func parse(_ top: inout TOMLReader) throws(ConfigError) -> CostConfig {
        var config = CostConfig()
        if var budgets = try top.subtable("budgets") {
            for task in budgets.table.keys.sorted() {
                guard let usd = try budgets.double(task, min: 0) else { continue }
                config.budgets[task] = usd
            }
        }
        if var ratios = try top.subtable("max_cost_ratio") {
            for chain in ratios.table.keys.sorted() {
                guard let ratio = try ratios.double(chain, min: 1) else { continue }
                config.maxCostRatio[chain] = ratio
            }
        }
        if var shadow = try top.subtable("shadow") {
            var policy = ShadowPolicy()
            policy.sampleRate = try shadow.double("sample_rate", min: 0, max: 1) ?? policy.sampleRate
            policy.dailyCapUSD = try shadow.double("daily_cap_usd", min: 0) ?? policy.dailyCapUSD
            if let tasks = try shadow.stringArray("tasks") { policy.tasks = Set(tasks) }
            policy.seed = UInt64(try shadow.int("seed", min: 0) ?? Int(policy.seed))
            if var pairs = try shadow.subtable("pairs") {
                for model in pairs.table.keys.sorted() {
                    policy.pairs[model] = try pairs.requiredString(model)
                }
            }
            try shadow.rejectUnknownKeys()
            config.shadow = policy
        }
        return config
    }

    /// Every model a shadow pair names must exist.
    static func validate(_ config: CostConfig, models: Set<String>, problems: ConfigProblems) throws(ConfigError) {
        let names = models.sorted()
        for (served, shadow) in config.shadow.pairs.sorted(by: { $0.key < $1.key }) {
            for name in [served, shadow] where !models.contains(name) {
                problems.add(ConfigError(key: "shadow.pairs.\(served)", "names unknown model '\(name)'" + Suggestion.hint(for: name, in: names)))
            }
        }
    }
}
