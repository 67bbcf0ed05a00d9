import FallbackCore

@testable import FallbackStore

/// The generated year draws from FallbackCore's SplitMix64, so it is the same on every run.
extension SeededGenerator {
    /// Uniform in [0, 1).
    mutating func unit() -> Double { nextUnit() }

    /// Uniform in `range`.
    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
}

/// What a generated call log holds, counted while generating (the report must find the same figures).
struct GeneratedLog {
    var attempts = 0
    var servedRequests = 0
    var servedByFallback = 0
    var failedAttempts = 0
    var shadowCalls = 0
    var shadowResults = 0
    var spendUSD = 0.0
    var shadowSpendUSD = 0.0
}

/// Fills a call log with a realistic mix of traffic: five tasks with their chains, per-model failure
/// rates, failed attempts sometimes billed, fallbacks, 3% reported calls and 5% shadow calls (each with
/// its `shadow_results` row). Rows are written in time order with one prepared INSERT per table, in one
/// transaction, through ``CallLogBinder`` (the writer's own binding).
enum CallLogGenerator {
    struct Model {
        var name: String
        var provider: String
        var per1kInput: Double
        var per1kOutput: Double
        var failureRate: Double

        func cost(_ usage: Usage) -> Double {
            Double(usage.inputTokens) * per1kInput / 1_000 + Double(usage.outputTokens) * per1kOutput / 1_000
        }
    }

    static let models: [Model] = [
        Model(name: "gpt-4o", provider: "openai", per1kInput: 0.0025, per1kOutput: 0.01, failureRate: 0.08),
        Model(name: "gpt-4o-mini", provider: "openai", per1kInput: 0.00015, per1kOutput: 0.0006, failureRate: 0.05),
        Model(name: "claude-sonnet", provider: "anthropic", per1kInput: 0.003, per1kOutput: 0.015, failureRate: 0.12),
        Model(name: "claude-haiku", provider: "anthropic", per1kInput: 0.0008, per1kOutput: 0.004, failureRate: 0.06),
        Model(name: "gemini-flash", provider: "gemini", per1kInput: 0.000075, per1kOutput: 0.0003, failureRate: 0.10),
        Model(name: "gemini-pro", provider: "gemini", per1kInput: 0.00125, per1kOutput: 0.005, failureRate: 0.15),
    ]

    /// (task, share of traffic, chain), chains resolved once (no lookups per row).
    static let tasks: [(String, Double, [Model])] = [
        ("summarize", 0.35, ["gpt-4o-mini", "claude-haiku", "gemini-flash"]),
        ("classify", 0.25, ["gemini-flash", "gpt-4o-mini"]),
        ("extract", 0.15, ["gpt-4o", "claude-sonnet", "gpt-4o-mini"]),
        ("complex_reasoning", 0.15, ["claude-sonnet", "gpt-4o", "gemini-pro"]),
        ("chat", 0.10, ["gpt-4o", "claude-sonnet"]),
    ].map { task, share, names in (task, share, names.compactMap { name in models.first { $0.name == name } }) }

    /// Writes about `attempts` attempt rows spread evenly over the `days` days before `endMillis`.
    static func generate(into path: String, attempts target: Int, days: Int, endMillis: Int64, seed: UInt64 = 42) throws -> GeneratedLog {
        let db = try SQLiteConnection(path: path)
        try db.exec("PRAGMA synchronous=OFF; PRAGMA cache_size=-131072")
        let insert = try db.prepare(CallLogSchema.insertSQL)
        let insertShadow = try db.prepare(CallLogSchema.insertShadowSQL)
        var rng = SeededGenerator(seed: seed)
        var log = GeneratedLog()
        let span = Int64(days) * 86_400_000
        let start = endMillis - span
        func write(_ row: AttemptRecord) throws(StoreError) {
            insert.reset()
            try CallLogBinder.bind(row, to: insert)
            try insert.step()
        }
        try db.transaction { () throws(StoreError) in
            var request = 0
            while log.attempts + log.shadowCalls < target {
                request += 1
                var ts = start + Int64(log.attempts + log.shadowCalls) * span / Int64(target)
                var pick = rng.unit()
                let (task, _, chain) = tasks.first { pick -= $0.1; return pick < 0 } ?? tasks[0]
                let input = rng.int(200...2_200)
                let reported = rng.unit() < 0.03
                let requestID = "r-5eed-\(request)"
                guard let primary = chain.first else { continue }
                for (index, model) in (reported ? [primary] : chain).enumerated() {
                    let ok = reported || rng.unit() >= model.failureRate
                    let billed = !ok && rng.unit() < 0.3
                    let usage = ok ? Usage(inputTokens: input, outputTokens: rng.int(50...850))
                        : Usage(inputTokens: billed ? input : 0, outputTokens: 0)
                    let latency = Int64(ok ? rng.int(300...4_000) : rng.int(20...2_000))
                    var row = AttemptRecord(
                        requestID: requestID, task: task, chain: reported ? "reported" : task, model: model.name,
                        provider: model.provider, attemptIndex: index, startedAtMillis: ts, latencyMs: latency, success: ok,
                        errorType: ok ? nil : .serverError, httpStatus: ok ? 200 : 503, usage: usage,
                        costUSD: model.cost(usage), metadataJSON: nil)
                    if ok && !reported {
                        row.fallbackCount = index
                        row.primaryCostUSD = primary.cost(usage)
                    }
                    try write(row)
                    log.attempts += 1
                    log.spendUSD += row.costUSD
                    ts += latency
                    guard ok else {
                        log.failedAttempts += 1
                        continue
                    }
                    log.servedRequests += 1
                    if index > 0 && !reported { log.servedByFallback += 1 }
                    if !reported && index + 1 < chain.count && rng.unit() < 0.05 {
                        try shadow(of: row, on: chain[index + 1], rng: &rng, log: &log, write: write, insert: insertShadow)
                    }
                    break
                }
            }
            insert.reset()
            insertShadow.reset()
        }
        db.close()
        return log
    }

    /// One shadow call on `backup` beside `served`: its `model_calls` row and its `shadow_results` row.
    private static func shadow(
        of served: AttemptRecord, on backup: Model, rng: inout SeededGenerator, log: inout GeneratedLog,
        write: (AttemptRecord) throws(StoreError) -> Void, insert: SQLiteStatement
    ) throws(StoreError) {
        let ok = rng.unit() >= backup.failureRate
        let usage = Usage(inputTokens: served.usage.inputTokens, outputTokens: ok ? rng.int(50...850) : 0)
        var row = served
        row.model = backup.name
        row.provider = backup.provider
        row.chain = "shadow"
        row.attemptIndex = 0
        row.startedAtMillis = served.startedAtMillis
        row.latencyMs = Int64(rng.int(300...4_000))
        row.success = ok
        row.errorType = ok ? nil : .timeout
        row.usage = usage
        row.costUSD = backup.cost(usage)
        row.fallbackCount = nil
        row.primaryCostUSD = nil
        row.shadow = true
        try write(row)
        log.shadowCalls += 1
        log.shadowSpendUSD += row.costUSD
        func sideOf(_ r: AttemptRecord) -> ShadowSide {
            ShadowSide(model: r.model, success: r.success, errorType: r.errorType, latencyMs: r.latencyMs, usage: r.usage,
                       costUSD: r.costUSD, outputLength: r.usage.outputTokens * 4)
        }
        let result = ShadowResult(
            requestID: served.requestID, task: served.task, startedAtMillis: served.startedAtMillis,
            primary: sideOf(served), shadow: sideOf(row), similarity: ok ? 0.2 + 0.75 * rng.unit() : nil)
        insert.reset()
        try CallLogBinder.bind(result, to: insert)
        try insert.step()
        log.shadowResults += 1
    }
}
