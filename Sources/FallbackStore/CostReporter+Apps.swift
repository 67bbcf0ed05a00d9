extension CostReporter {
    /// One row per calling app with calls in `[sinceMillis, untilMillis)`, highest spend first; calls
    /// without a known app (older rows, TCP callers) are not in any row.
    public func byApp(sinceMillis: Int64, untilMillis: Int64) throws(StoreError) -> [CostRow] {
        let keys = try connection.prepare(Self.appKeysSQL)
        var apps: [String] = []
        while try keys.step() {
            if let app = keys.text(at: 0) { apps.append(app) }
        }
        let statement = try connection.prepare(Self.appSQL)
        var rows: [CostRow] = []
        for app in apps {
            statement.reset()
            try statement.bind(app, at: 1)
            try statement.bind(sinceMillis, at: 2)
            try statement.bind(untilMillis, at: 3)
            guard try statement.step() else { continue }
            let row = Self.row(statement, key: app)
            if row.attempts > 0 || row.shadowCalls > 0 { rows.append(row) }
        }
        statement.reset()
        return rows.sorted { ($0.spendUSD, $1.key) > ($1.spendUSD, $0.key) }
    }

    /// Spend per app since `sinceMillis`: what the per-app budgets restore at start.
    public func spendByApp(sinceMillis: Int64) throws(StoreError) -> [String: Double] {
        Dictionary(uniqueKeysWithValues: try byApp(sinceMillis: sinceMillis, untilMillis: Int64.max).map { ($0.key, $0.spendUSD) })
    }
}
