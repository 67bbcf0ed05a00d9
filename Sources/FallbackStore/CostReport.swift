/// Spend and fallback figures for one key (a task, a model, a week, or everything) over a time range.
///
/// "Attempts" are the non-shadow rows of `model_calls`: the caller's own attempts, failed ones included,
/// and calls the app reported itself (chain `reported`). Shadow calls are counted apart, in
/// ``shadowCalls`` and ``shadowSpendUSD``, and never in ``spendUSD``.
public struct CostRow: Sendable, Hashable {
    /// The task, the model's pool name, `total`, or the week's Monday as `YYYY-MM-DD`.
    public var key: String
    /// Requests served: by task and in totals, distinct requests that got an answer; by model, the requests it served.
    public var requests: Int
    /// Non-shadow attempts, failed ones included.
    public var attempts: Int
    /// Prompt tokens billed over ``attempts``.
    public var inputTokens: Int
    /// Completion tokens billed over ``attempts``.
    public var outputTokens: Int
    /// US dollars spent over ``attempts`` (failed attempts cost what the provider billed).
    public var spendUSD: Double
    /// Served requests whose serving model was not the chain's first (`fallback_count > 0`).
    public var servedByFallback: Int
    /// Sum over the requests in ``servedByFallback`` of what they cost minus what the primary would have cost
    /// for the same tokens; negative when the fallbacks were cheaper. A row without a primary cost adds 0.
    public var fallbackExtraUSD: Double
    /// Non-shadow attempts that failed.
    public var failedAttempts: Int
    /// US dollars billed for ``failedAttempts``.
    public var failedCostUSD: Double
    /// Shadow calls (sampled traffic on backup models).
    public var shadowCalls: Int
    /// US dollars spent on ``shadowCalls``.
    public var shadowSpendUSD: Double

    /// ``servedByFallback`` / ``requests``; 0 when nothing was served.
    public var fallbackShare: Double {
        requests > 0 ? Double(servedByFallback) / Double(requests) : 0
    }

    /// Builds a row; every figure defaults to zero (the reporter fills it from SQL; this is for fakes and tests).
    public init(
        key: String, requests: Int = 0, attempts: Int = 0, inputTokens: Int = 0, outputTokens: Int = 0, spendUSD: Double = 0,
        servedByFallback: Int = 0, fallbackExtraUSD: Double = 0, failedAttempts: Int = 0, failedCostUSD: Double = 0,
        shadowCalls: Int = 0, shadowSpendUSD: Double = 0
    ) {
        self.key = key
        self.requests = requests
        self.attempts = attempts
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.spendUSD = spendUSD
        self.servedByFallback = servedByFallback
        self.fallbackExtraUSD = fallbackExtraUSD
        self.failedAttempts = failedAttempts
        self.failedCostUSD = failedCostUSD
        self.shadowCalls = shadowCalls
        self.shadowSpendUSD = shadowSpendUSD
    }
}

/// One UTC week (Monday 00:00 to the next Monday 00:00) of totals.
public struct WeekRow: Sendable, Hashable {
    /// Milliseconds in a week.
    public static let millis: Int64 = 604_800_000
    /// 1970-01-05T00:00Z, the first Monday of the Unix epoch.
    static let firstMondayMillis: Int64 = 345_600_000

    /// The week's Monday 00:00 UTC, unix millis.
    public var weekStartMillis: Int64
    /// The week's totals; ``CostRow/key`` is the Monday as `YYYY-MM-DD`. The newest week may be partial
    /// (it ends at the report's `untilMillis`).
    public var totals: CostRow

    /// Builds a row (for fakes and tests).
    public init(weekStartMillis: Int64, totals: CostRow) {
        self.weekStartMillis = weekStartMillis
        self.totals = totals
    }

    /// Monday 00:00 UTC of the week holding `unixMillis` (a Monday 00:00 is the start of its own week).
    public static func start(containing unixMillis: Int64) -> Int64 {
        // Wrapping arithmetic: absurd inputs near Int64.min give an absurd week, never a trap.
        let (_, offset) = ISOTimestamp.floorDivMod(unixMillis &- firstMondayMillis, millis)
        return unixMillis &- offset
    }
}

/// What ``CostReporter/report(sinceMillis:untilMillis:weeks:)`` returns.
public struct CostReport: Sendable, Hashable {
    /// Start of the range, inclusive (unix millis).
    public var sinceMillis: Int64
    /// End of the range, exclusive (unix millis).
    public var untilMillis: Int64
    /// One row per task with calls in the range, highest spend first (ties by key).
    public var byTask: [CostRow]
    /// One row per model with calls in the range, highest spend first (ties by key).
    public var byModel: [CostRow]
    /// One row per calling app (from the socket peer), highest spend first.
    public var byApp: [CostRow] = []
    /// Everything in the range; ``CostRow/key`` is `total`.
    public var totals: CostRow
    /// The most recent weeks ending at ``untilMillis``, oldest first, empty weeks included (independent of ``sinceMillis``).
    public var weekly: [WeekRow]

    /// Builds a report (for fakes and tests).
    public init(sinceMillis: Int64, untilMillis: Int64, byTask: [CostRow], byModel: [CostRow], totals: CostRow, weekly: [WeekRow]) {
        self.sinceMillis = sinceMillis
        self.untilMillis = untilMillis
        self.byTask = byTask
        self.byModel = byModel
        self.totals = totals
        self.weekly = weekly
    }
}
