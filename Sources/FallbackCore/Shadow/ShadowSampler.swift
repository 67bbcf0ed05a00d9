import Synchronization

/// Decides which requests get a shadow call, picks the shadow model, and keeps the day's shadow spend
/// against `ShadowPolicy.dailyCapUSD`.
///
/// Decisions come from one SplitMix64 generator seeded with `policy.seed` and shared under a lock, with
/// exactly one draw per request that is sampled at all (no opt-in or opt-out, task in `policy.tasks`,
/// cap not reached): the same seed and the same order of such requests give the same decisions.
/// Spend is kept in exact nanodollars per UTC day, like `BudgetLedger`.
public final class ShadowSampler: Sendable {
    /// The policy this sampler applies.
    public let policy: ShadowPolicy

    private struct State {
        var generator: SeededGenerator
        var spend: DailySpend
    }

    private let modelsByName: [String: ModelConfig]
    private let capNanos: Int64?
    private let state: Mutex<State>

    /// - Parameters:
    ///   - policy: the `[shadow]` table.
    ///   - models: the pool's models, so `policy.pairs` can name a shadow model outside the served chain;
    ///     without them a pair resolves only to a model of the chain passed to `shadowModel(for:chain:)`.
    public init(policy: ShadowPolicy, models: [ModelConfig] = []) {
        self.policy = policy
        modelsByName = Dictionary(models.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        capNanos = policy.dailyCapUSD.map { DailySpend.nanos($0) }
        state = Mutex(State(generator: SeededGenerator(seed: policy.seed), spend: DailySpend(day: 0, nanos: 0)))
    }

    /// Whether the request gets a shadow call.
    ///
    /// - `optIn == false` (the request sent `shadow: false`): never.
    /// - `optIn == true`: always, whatever the task and the rate, unless the day's cap is reached.
    /// - `optIn == nil`: only for tasks in `policy.tasks` (all when `nil`), only while the cap is not reached,
    ///   then at `policy.sampleRate` with one draw of the seeded generator.
    ///
    /// The cap is reached once today's (UTC) shadow spend is at or above `policy.dailyCapUSD`.
    public func decide(task: String, optIn: Bool?, at now: Moment) -> Bool {
        if optIn == false { return false }
        let day = DailySpend.day(now.unixMillis)
        let sampled = optIn == nil
        if sampled && !policy.applies(to: task) { return false }
        return state.withLock { state in
            if let cap = capNanos, state.spend.nanos(on: day) >= cap { return false }
            return sampled ? state.generator.chance(policy.sampleRate) : true
        }
    }

    /// The model that shadows `served` on a request that walked `chain`: `policy.pairs[served.name]` when
    /// set (resolved among the pool's models, then the chain; `nil` if it names neither, or `served` itself),
    /// otherwise the model after `served` in `chain` (`nil` when `served` is last or not in the chain).
    public func shadowModel(for served: ModelConfig, chain: [ModelConfig]) -> ModelConfig? {
        if let name = policy.pairs[served.name] {
            guard name != served.name else { return nil }
            return modelsByName[name] ?? chain.first { $0.name == name }
        }
        guard let index = chain.firstIndex(where: { $0.name == served.name }), index + 1 < chain.count else {
            return nil
        }
        return chain[index + 1]
    }

    /// Adds a finished shadow call's cost to the spend of the UTC day of `now`.
    public func addSpend(_ usd: Double, at now: Moment) {
        let nanos = DailySpend.nanos(usd)
        guard nanos > 0 else { return }
        let day = DailySpend.day(now.unixMillis)
        state.withLock { $0.spend.add(nanos, day: day) }
    }

    /// Sets the shadow spend of the UTC day of `now`, read back from the call log at start.
    public func restore(spentToday usd: Double, at now: Moment) {
        let day = DailySpend.day(now.unixMillis)
        state.withLock { $0.spend = DailySpend(day: day, nanos: DailySpend.nanos(usd)) }
    }

    /// The shadow spend of the UTC day of `now`, in US dollars.
    public func spentToday(at now: Moment) -> Double {
        let day = DailySpend.day(now.unixMillis)
        return DailySpend.usd(state.withLock { $0.spend.nanos(on: day) })
    }
}
