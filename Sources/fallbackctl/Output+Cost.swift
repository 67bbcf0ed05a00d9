import FallbackClient

/// Tables and CSV for `cost` and `shadow`.
extension Output {
    /// The figure columns of a spend table, after its key column.
    static let spendColumns: [Table.Column] = [
        .init("REQUESTS", .right), .init("TOKENS IN", .right), .init("TOKENS OUT", .right), .init("SPEND $", .right),
        .init("FALLBACK %", .right), .init("FALLBACK EXTRA $", .right), .init("FAILED", .right),
        .init("FAILED $", .right), .init("SHADOW", .right), .init("SHADOW $", .right),
    ]

    /// The CSV header of a spend row (after the leading key columns): every figure, snake_case as on the wire.
    static let spendCSVHeader = [
        "requests", "attempts", "input_tokens", "output_tokens", "spend_usd", "served_by_fallback", "fallback_share",
        "fallback_extra_usd", "failed_attempts", "failed_cost_usd", "shadow_calls", "shadow_spend_usd",
    ]

    /// A spend table: one row per entry of `rows`, then `totals` as `total` (when given).
    static func spendTable(_ rows: [SpendRow], keyTitle: String, totals: SpendRow?) -> Table {
        var table = Table([.init(keyTitle)] + spendColumns)
        for row in rows { table.append([row.key] + spendCells(row)) }
        if let totals { table.append(["total"] + spendCells(totals)) }
        return table
    }

    /// The weekly totals: one row per week, oldest first.
    static func weeklyTable(_ weeks: [SpendWeek]) -> Table {
        var table = Table([.init("WEEK OF")] + spendColumns)
        for week in weeks { table.append([week.totals.key] + spendCells(week.totals)) }
        return table
    }

    /// A row's figures as table cells: dollars with six decimals, the fallback share as a percentage.
    static func spendCells(_ row: SpendRow) -> [String] {
        [
            String(row.requests), String(row.inputTokens), String(row.outputTokens), Completion.formatCost(row.spendUSD),
            row.requests == 0 ? "-" : percent(row.fallbackShare), Completion.formatCost(row.fallbackExtraUSD),
            String(row.failedAttempts), Completion.formatCost(row.failedCostUSD), String(row.shadowCalls),
            Completion.formatCost(row.shadowSpendUSD),
        ]
    }

    /// A row's figures as CSV fields, in `spendCSVHeader` order, unrounded.
    static func spendCSV(_ row: SpendRow) -> [String] {
        [
            String(row.requests), String(row.attempts), String(row.inputTokens), String(row.outputTokens),
            decimal(row.spendUSD, digits: 9), String(row.servedByFallback), decimal(row.fallbackShare, digits: 6),
            decimal(row.fallbackExtraUSD, digits: 9), String(row.failedAttempts), decimal(row.failedCostUSD, digits: 9),
            String(row.shadowCalls), decimal(row.shadowSpendUSD, digits: 9),
        ]
    }

    /// `shadow`: one row per (primary, shadow) pair.
    static func shadowTable(_ pairs: [ShadowPair]) -> Table {
        var table = Table([
            .init("PRIMARY"), .init("SHADOW"), .init("CALLS", .right), .init("PRIMARY OK", .right),
            .init("SHADOW OK", .right), .init("LATENCY", .right), .init("COST", .right), .init("SIMILARITY", .right),
        ])
        for pair in pairs {
            table.append([
                pair.primaryModel, pair.shadowModel, String(pair.calls), percent(pair.primarySuccessRate),
                percent(pair.shadowSuccessRate), pair.latencyRatio.map(ratio) ?? "-", pair.costRatio.map(ratio) ?? "-",
                pair.meanSimilarity.map { decimal($0, digits: 2) } ?? "-",
            ])
        }
        return table
    }

    /// The CSV of `shadow`: a header, then one line per pair (empty fields for missing ratios).
    static func shadowCSV(_ pairs: [ShadowPair]) -> [String] {
        let header = [
            "primary_model", "shadow_model", "calls", "primary_success_rate", "shadow_success_rate", "latency_ratio",
            "cost_ratio", "mean_similarity",
        ]
        return [CSV.line(header)] + pairs.map { pair in
            CSV.line([
                pair.primaryModel, pair.shadowModel, String(pair.calls), decimal(pair.primarySuccessRate),
                decimal(pair.shadowSuccessRate), pair.latencyRatio.map { decimal($0) } ?? "",
                pair.costRatio.map { decimal($0) } ?? "", pair.meanSimilarity.map { decimal($0) } ?? "",
            ])
        }
    }

    /// A ratio with two decimals and a times sign (`1.25×`).
    static func ratio(_ value: Double) -> String {
        guard value.isFinite else { return "-" }
        let hundredths = Int((value * 100).rounded())
        let fraction = String(hundredths % 100)
        return "\(hundredths / 100).\(fraction.count == 1 ? "0" + fraction : fraction)×"
    }

    /// The period a report covers: `last 7 days (2026-11-17T12:00:00Z to 2026-11-24T12:00:00Z)`.
    static func period(days: Int?, since: String, until: String) -> String {
        let span = "\(trimmedISO(since)) to \(trimmedISO(until))"
        guard let days else { return span }
        return "last \(days) day\(days == 1 ? "" : "s") (\(span))"
    }
}

/// RFC 4180 lines: fields with a comma, a quote or a line break are quoted, quotes doubled.
enum CSV {
    static func line(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",")
    }

    static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return text }
        var quoted = "\""
        for character in text {
            if character == "\"" { quoted += "\"" }
            quoted.append(character)
        }
        return quoted + "\""
    }
}
