/// The `[shadow]` table: which requests get a parallel call on a backup model, which model, and how much
/// those calls may spend per UTC day.
///
/// ```toml
/// [shadow]
/// sample_rate = 0.05                       # share of eligible requests shadowed
/// pairs = { "gpt-4o" = "claude-3-5-sonnet" } # served model -> shadow model
/// daily_cap_usd = 2.0                      # stop shadowing for the day once reached
/// tasks = ["summarize", "classify"]         # omitted: every task
/// seed = 42                                # the sampler's generator
/// ```
public struct ShadowPolicy: Sendable, Hashable {
    /// The default share of eligible requests that get a shadow call.
    public static let defaultSampleRate = 0.05

    /// Share of eligible requests shadowed, 0...1 (values outside are clamped when sampling: 0 or less
    /// never samples, 1 or more always does).
    public var sampleRate: Double
    /// Served model name -> shadow model name. A served model without an entry is shadowed by the next
    /// model of its chain.
    public var pairs: [String: String]
    /// The most shadow calls may cost per UTC day, in US dollars; `nil` for no cap.
    public var dailyCapUSD: Double?
    /// The tasks sampled; `nil` for every task. A request that opts in is shadowed whatever its task.
    public var tasks: Set<String>?
    /// Seeds the sampler's generator, so the same seed and request order give the same decisions.
    public var seed: UInt64

    /// - Parameters:
    ///   - sampleRate: share of eligible requests shadowed (0.05).
    ///   - pairs: served model -> shadow model; empty uses the next model of the chain.
    ///   - dailyCapUSD: shadow spend cap per UTC day; `nil` for none.
    ///   - tasks: the tasks sampled; `nil` for all.
    ///   - seed: the generator's seed.
    public init(
        sampleRate: Double = ShadowPolicy.defaultSampleRate, pairs: [String: String] = [:], dailyCapUSD: Double? = nil,
        tasks: Set<String>? = nil, seed: UInt64 = 0
    ) {
        self.sampleRate = sampleRate
        self.pairs = pairs
        self.dailyCapUSD = dailyCapUSD
        self.tasks = tasks
        self.seed = seed
    }

    /// Whether `task` is sampled at all (opt-in requests aside).
    public func applies(to task: String) -> Bool {
        tasks?.contains(task) ?? true
    }
}
