/// Spend and fallback figures for one key of `cost.report`: a task, a model, a week, or the totals.
///
/// Attempts are the caller's own attempts (failed ones included) and calls reported with `report`;
/// shadow calls are counted apart, in `shadowCalls` and `shadowSpendUSD`, never in `spendUSD`.
public struct SpendRow: Sendable, Equatable {
    /// The task, the model's pool name, `total`, or the week's Monday as `YYYY-MM-DD`.
    public var key: String
    /// Requests served: by task and in the totals, requests that got an answer; by model, the ones it served.
    public var requests: Int
    /// Non-shadow attempts, failed ones included.
    public var attempts: Int
    /// Prompt and completion tokens billed over `attempts`.
    public var inputTokens: Int
    public var outputTokens: Int
    /// US dollars spent over `attempts` (a failed attempt costs what the provider billed).
    public var spendUSD: Double
    /// Served requests whose serving model was not the chain's first.
    public var servedByFallback: Int
    /// `servedByFallback / requests`, 0...1 (0 when nothing was served).
    public var fallbackShare: Double
    /// What the serving fallbacks cost minus what the primary would have cost for the same tokens;
    /// negative when the fallbacks saved money.
    public var fallbackExtraUSD: Double
    /// Non-shadow attempts that failed, and what they were billed.
    public var failedAttempts: Int
    public var failedCostUSD: Double
    /// Shadow calls (sampled traffic on backup models) and what they cost.
    public var shadowCalls: Int
    public var shadowSpendUSD: Double

    public init(
        key: String, requests: Int = 0, attempts: Int = 0, inputTokens: Int = 0, outputTokens: Int = 0,
        spendUSD: Double = 0, servedByFallback: Int = 0, fallbackShare: Double = 0, fallbackExtraUSD: Double = 0,
        failedAttempts: Int = 0, failedCostUSD: Double = 0, shadowCalls: Int = 0, shadowSpendUSD: Double = 0
    ) {
        self.key = key
        self.requests = requests
        self.attempts = attempts
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.spendUSD = spendUSD
        self.servedByFallback = servedByFallback
        self.fallbackShare = fallbackShare
        self.fallbackExtraUSD = fallbackExtraUSD
        self.failedAttempts = failedAttempts
        self.failedCostUSD = failedCostUSD
        self.shadowCalls = shadowCalls
        self.shadowSpendUSD = shadowSpendUSD
    }

    /// Reads one row; missing figures are 0. `nil` when `json` is not an object.
    public init?(json: JSON) {
        guard json.kind == .object else { return nil }
        func int(_ name: String) -> Int { json[name]?.roundedInt ?? 0 }
        func usd(_ name: String) -> Double { json[name]?.doubleValue ?? 0 }
        self.init(
            key: json["key"]?.stringValue ?? "", requests: int("requests"), attempts: int("attempts"),
            inputTokens: int("input_tokens"), outputTokens: int("output_tokens"), spendUSD: usd("spend_usd"),
            servedByFallback: int("served_by_fallback"), fallbackShare: usd("fallback_share"),
            fallbackExtraUSD: usd("fallback_extra_usd"), failedAttempts: int("failed_attempts"),
            failedCostUSD: usd("failed_cost_usd"), shadowCalls: int("shadow_calls"), shadowSpendUSD: usd("shadow_spend_usd")
        )
    }

    /// One row of `cost.report` (`totals`, `by_task`, `by_model`, and each week of `weekly`).
    public var json: JSON {
        [
            "key": .string(key), "requests": .int(requests), "attempts": .int(attempts), "input_tokens": .int(inputTokens),
            "output_tokens": .int(outputTokens), "spend_usd": .double(spendUSD), "served_by_fallback": .int(servedByFallback),
            "fallback_share": .double(fallbackShare), "fallback_extra_usd": .double(fallbackExtraUSD),
            "failed_attempts": .int(failedAttempts), "failed_cost_usd": .double(failedCostUSD),
            "shadow_calls": .int(shadowCalls), "shadow_spend_usd": .double(shadowSpendUSD),
        ]
    }
}

/// One UTC week (Monday 00:00 to the next Monday) of `cost.report`'s `weekly` totals.
public struct SpendWeek: Sendable, Equatable {
    /// The week's Monday 00:00 UTC, ISO-8601 (`2026-11-16T00:00:00.000Z`), and in Unix milliseconds.
    public var weekStart: String
    public var weekStartMs: Int
    /// The week's totals; `key` is the Monday as `YYYY-MM-DD`. The newest week may be partial.
    public var totals: SpendRow

    public init(weekStart: String, weekStartMs: Int, totals: SpendRow) {
        self.weekStart = weekStart
        self.weekStartMs = weekStartMs
        self.totals = totals
    }
}

/// The result of `cost.report`: spend per task and per model over a period, the totals, and the
/// totals of the most recent weeks.
public struct SpendReport: Sendable {
    /// The period, `[since, until)`, ISO-8601 UTC and Unix milliseconds.
    public var since: String
    public var until: String
    public var sinceMs: Int
    public var untilMs: Int
    /// The `days` the period was asked as; `nil` when it was given as since/until.
    public var days: Int?
    public var totals: SpendRow
    /// Sorted by spend, highest first.
    public var byTask: [SpendRow]
    public var byModel: [SpendRow]
    /// One row per calling app (the socket peer's `[apps.NAME]` rule or executable), by spend.
    public var byApp: [SpendRow] = []
    /// Oldest week first, empty weeks included, ending at `until`.
    public var weekly: [SpendWeek]
    /// The whole result object (`nil` for a report built in code).
    public var raw: JSON?

    public init(
        since: String, until: String, sinceMs: Int, untilMs: Int, days: Int?, totals: SpendRow, byTask: [SpendRow],
        byModel: [SpendRow], weekly: [SpendWeek]
    ) {
        self.since = since
        self.until = until
        self.sinceMs = sinceMs
        self.untilMs = untilMs
        self.days = days
        self.totals = totals
        self.byTask = byTask
        self.byModel = byModel
        self.weekly = weekly
    }

    /// Decodes a `cost.report` result.
    /// - Throws: when it is not an object or lacks `totals`, `by_task` or `by_model`.
    public init(json: JSON) throws(WireError) {
        guard let totals = json["totals"].flatMap(SpendRow.init(json:)),
            let byTask = json["by_task"]?.arrayValue, let byModel = json["by_model"]?.arrayValue
        else {
            throw WireError(field: "result", "a cost.report result has totals, by_task and by_model")
        }
        since = json["since"]?.stringValue ?? ""
        until = json["until"]?.stringValue ?? ""
        sinceMs = json["since_ms"]?.roundedInt ?? 0
        untilMs = json["until_ms"]?.roundedInt ?? 0
        days = json["days"]?.roundedInt
        self.totals = totals
        self.byTask = byTask.compactMap(SpendRow.init(json:))
        self.byModel = byModel.compactMap(SpendRow.init(json:))
        byApp = (json["by_app"]?.arrayValue ?? []).compactMap(SpendRow.init(json:))
        weekly = (json["weekly"]?.arrayValue ?? []).compactMap { entry in
            SpendRow(json: entry).map {
                SpendWeek(
                    weekStart: entry["week_start"]?.stringValue ?? "", weekStartMs: entry["week_start_ms"]?.roundedInt ?? 0,
                    totals: $0)
            }
        }
        raw = json
    }

    /// The `cost.report` result.
    public var json: JSON {
        [
            "since": .string(since), "until": .string(until), "since_ms": .int(sinceMs), "until_ms": .int(untilMs),
            "days": .optional(days), "totals": totals.json, "by_task": .array(byTask.map(\.json)),
            "by_model": .array(byModel.map(\.json)), "by_app": .array(byApp.map(\.json)),
            "weekly": .array(weekly.map { week in
                var entry = week.totals.json
                entry["week_start"] = .string(week.weekStart)
                entry["week_start_ms"] = .int(week.weekStartMs)
                return entry
            }),
        ]
    }
}
