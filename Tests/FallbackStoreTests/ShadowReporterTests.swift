import FallbackCore
import Testing

@testable import FallbackStore

@Suite("ShadowReporter")
struct ShadowReporterTests {
    static let t0: Int64 = 1_795_392_000_000

    static func result(_ n: Int, at ts: Int64 = t0, primary: ShadowSide, shadow: ShadowSide, similarity: Double?) -> ShadowResult {
        ShadowResult(requestID: "r-\(n)", task: "summarize", startedAtMillis: ts, primary: primary, shadow: shadow, similarity: similarity)
    }

    @Test func ratiosAndMeanSimilarityPerPair() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let log = try CallLog(path: dir.path(), logger: LogCapture().logger)
        let results = [
            // big -> mid: both succeed twice; latency (150 + 450) / (100 + 300) = 1.5, cost (0.25 + 0.75) / (1 + 3) = 0.25,
            // similarity (0.5 + 0.75) / 2 = 0.625.
            Self.result(1, primary: side("big", latency: 100, cost: 1.0), shadow: side("mid", latency: 150, cost: 0.25), similarity: 0.5),
            Self.result(2, primary: side("big", latency: 300, cost: 3.0), shadow: side("mid", latency: 450, cost: 0.75), similarity: 0.75),
            // ... the shadow fails once, the primary once: rates 3/4 each; neither enters the ratios.
            Self.result(3, primary: side("big", latency: 200, cost: 2.0),
                        shadow: side("mid", success: false, latency: 50, cost: 0.0625), similarity: nil),
            Self.result(4, primary: side("big", success: false, latency: 900, cost: 0.5),
                        shadow: side("mid", latency: 10, cost: 8.0), similarity: nil),
            // small -> mid: never both succeeded: ratios and similarity are nil.
            Self.result(5, primary: side("small"), shadow: side("mid", success: false), similarity: nil),
            // Outside [t0, t0 + 1000).
            Self.result(6, at: Self.t0 - 1, primary: side("big"), shadow: side("mid"), similarity: 0.0),
            Self.result(7, at: Self.t0 + 1_000, primary: side("big"), shadow: side("mid"), similarity: 0.0),
        ]
        for result in results { log.recordShadow(result) }
        let flushed = await log.flush()
        #expect(flushed.writtenShadows == 7 && flushed.written == 0 && flushed.pendingShadows == 0)
        await log.close()

        let rows = try ShadowReporter(path: dir.path()).report(sinceMillis: Self.t0, untilMillis: Self.t0 + 1_000)
        #expect(rows == [
            ShadowPairRow(primaryModel: "big", shadowModel: "mid", calls: 4, bothSucceeded: 2, primarySuccessRate: 0.75,
                          shadowSuccessRate: 0.75, latencyRatio: 1.5, costRatio: 0.25, meanSimilarity: 0.625),
            ShadowPairRow(primaryModel: "small", shadowModel: "mid", calls: 1, bothSucceeded: 0, primarySuccessRate: 1,
                          shadowSuccessRate: 0, latencyRatio: nil, costRatio: nil, meanSimilarity: nil),
        ])
        #expect(try ShadowReporter(path: dir.path()).report(sinceMillis: 0, untilMillis: Self.t0 - 1).isEmpty)
    }

    @Test func freePrimaryGivesNoCostRatio() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let log = try CallLog(path: dir.path(), logger: LogCapture().logger)
        log.recordShadow(Self.result(1, primary: side("local", latency: 0, cost: 0), shadow: side("big", cost: 1), similarity: 1))
        _ = await log.flush()
        await log.close()
        let rows = try ShadowReporter(path: dir.path()).report(sinceMillis: Self.t0, untilMillis: Self.t0 + 1)
        #expect(rows.count == 1)
        #expect(rows.first?.costRatio == nil && rows.first?.latencyRatio == nil && rows.first?.meanSimilarity == 1)
    }
}
