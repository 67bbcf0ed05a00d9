import FallbackRPC
import FallbackStore

/// The store's reports in the wire contract's shapes: `cost.report` and `shadow.report`.
enum CostEncoding {
    static func report(_ report: CostReport, since: Int64, until: Int64, days: Int?) -> JSON {
        var spend = SpendReport(
            since: ISOTimestamp.string(unixMillis: since), until: ISOTimestamp.string(unixMillis: until),
            sinceMs: Int(since), untilMs: Int(until), days: days, totals: row(report.totals),
            byTask: report.byTask.map(row), byModel: report.byModel.map(row),
            weekly: report.weekly.map { week in
                SpendWeek(
                    weekStart: ISOTimestamp.string(unixMillis: week.weekStartMillis), weekStartMs: Int(week.weekStartMillis),
                    totals: row(week.totals))
            }
        )
        spend.byApp = report.byApp.map(row)
        return spend.json
    }

    static func row(_ row: CostRow) -> SpendRow {
        SpendRow(
            key: row.key, requests: row.requests, attempts: row.attempts, inputTokens: row.inputTokens,
            outputTokens: row.outputTokens, spendUSD: row.spendUSD, servedByFallback: row.servedByFallback,
            fallbackShare: row.fallbackShare, fallbackExtraUSD: row.fallbackExtraUSD, failedAttempts: row.failedAttempts,
            failedCostUSD: row.failedCostUSD, shadowCalls: row.shadowCalls, shadowSpendUSD: row.shadowSpendUSD)
    }

    static func shadow(_ pairs: [ShadowPairRow], since: Int64, until: Int64, days: Int?) -> JSON {
        ShadowReport(
            since: ISOTimestamp.string(unixMillis: since), until: ISOTimestamp.string(unixMillis: until),
            sinceMs: Int(since), untilMs: Int(until), days: days,
            pairs: pairs.map { pair in
                ShadowPair(
                    primaryModel: pair.primaryModel, shadowModel: pair.shadowModel, calls: pair.calls,
                    primarySuccessRate: pair.primarySuccessRate, shadowSuccessRate: pair.shadowSuccessRate,
                    latencyRatio: pair.latencyRatio, costRatio: pair.costRatio, meanSimilarity: pair.meanSimilarity)
            }
        ).json
    }
}
