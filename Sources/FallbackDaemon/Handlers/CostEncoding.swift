import FallbackRPC
import FallbackStore

/// The wire shapes of `cost.report` and `shadow.report`.
enum CostEncoding {
    static func report(_ report: CostReport, since: Int64, until: Int64, days: Int?) -> JSON {
        [
            "since": .string(ISOTimestamp.string(unixMillis: since)),
            "until": .string(ISOTimestamp.string(unixMillis: until)),
            "since_ms": .int(Int(since)),
            "until_ms": .int(Int(until)),
            "days": days.map { .int($0) } ?? .null,
            "totals": row(report.totals),
            "by_task": .array(report.byTask.map(row)),
            "by_model": .array(report.byModel.map(row)),
            "weekly": .array(report.weekly.map { week in
                var entry = row(week.totals)
                entry["week_start"] = .string(ISOTimestamp.string(unixMillis: week.weekStartMillis))
                entry["week_start_ms"] = .int(Int(week.weekStartMillis))
                return entry
            }),
        ]
    }

    static func row(_ row: CostRow) -> JSON {
        [
            "key": .string(row.key),
            "requests": .int(row.requests),
            "attempts": .int(row.attempts),
            "input_tokens": .int(row.inputTokens),
            "output_tokens": .int(row.outputTokens),
            "spend_usd": .double(row.spendUSD),
            "served_by_fallback": .int(row.servedByFallback),
            "fallback_share": .double(row.fallbackShare),
            "fallback_extra_usd": .double(row.fallbackExtraUSD),
            "failed_attempts": .int(row.failedAttempts),
            "failed_cost_usd": .double(row.failedCostUSD),
            "shadow_calls": .int(row.shadowCalls),
            "shadow_spend_usd": .double(row.shadowSpendUSD),
        ]
    }

    static func shadow(_ pairs: [ShadowPairRow], since: Int64, until: Int64, days: Int?) -> JSON {
        [
            "since": .string(ISOTimestamp.string(unixMillis: since)),
            "until": .string(ISOTimestamp.string(unixMillis: until)),
            "since_ms": .int(Int(since)),
            "until_ms": .int(Int(until)),
            "days": days.map { .int($0) } ?? .null,
            "pairs": .array(pairs.map { pair in
                [
                    "primary_model": .string(pair.primaryModel),
                    "shadow_model": .string(pair.shadowModel),
                    "calls": .int(pair.calls),
                    "primary_success_rate": .double(pair.primarySuccessRate),
                    "shadow_success_rate": .double(pair.shadowSuccessRate),
                    "latency_ratio": pair.latencyRatio.map { .double($0) } ?? .null,
                    "cost_ratio": pair.costRatio.map { .double($0) } ?? .null,
                    "mean_similarity": pair.meanSimilarity.map { .double($0) } ?? .null,
                ]
            }),
        ]
    }
}
