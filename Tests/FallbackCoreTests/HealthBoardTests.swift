import Testing

@testable import FallbackCore

@Suite("Health: board")
struct HealthBoardTests {
    let minute: Int64 = 60_000

    func at(_ millis: Int64) -> Moment { healthBase.adding(millis: millis) }

    @Test("100 tasks x 100 concurrent records give exact counts")
    func concurrentRecords() async {
        let board = HealthBoard(policy: .default)
        let models = ["gpt-4o", "claude-3-5-sonnet", "gpt-4o-mini", "claude-3-haiku"]
        let now = at(30 * minute)
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<100 {
                group.addTask {
                    for call in 0..<100 {
                        let outcome: CallOutcome =
                            call % 10 == 0 ? .failure(.serverError, latencyMs: 400) : .success(latencyMs: 200)
                        // Spread over the last two minutes' buckets.
                        board.record(models[task % 4], outcome, at: now.adding(millis: -Int64(call * 1_000)))
                    }
                }
            }
        }
        for model in models {
            let stats = board.stats(model, windowMinutes: 5, at: now)
            #expect(stats.calls == 2_500)
            #expect(stats.successes == 2_250)
            #expect(stats.successRate == 0.9)
            #expect(stats.avgLatencyMs == 220)
            #expect(!stats.degraded)
        }
        #expect(board.allStats(windowMinutes: 5, at: now).values.map(\.calls).reduce(0, +) == 10_000)
    }

    @Test("a model never seen has empty, healthy stats")
    func unknownModel() {
        let board = HealthBoard(policy: .default)
        let stats = board.stats("nope", windowMinutes: 60, at: at(0))
        #expect(stats.calls == 0)
        #expect(stats.successRate == 1.0)
        #expect(stats.windowMinutes == 60)
        #expect(!board.isDegraded("nope", at: at(0)))
        #expect(board.snapshots().isEmpty)
        #expect(board.allStats(windowMinutes: 60, at: at(0)).isEmpty)
    }

    @Test("isDegraded judges over reorderWindowMinutes only")
    func reorderWindow() {
        let board = HealthBoard(policy: .default)
        #expect(board.policy.reorderWindowMinutes == 10)
        for _ in 0..<10 { board.record("gpt-4o", .failure(.overloaded, latencyMs: 30), at: at(0)) }
        #expect(board.isDegraded("gpt-4o", at: at(10 * minute - 1)))
        #expect(!board.isDegraded("gpt-4o", at: at(10 * minute)))
        #expect(board.stats("gpt-4o", windowMinutes: 15, at: at(10 * minute)).degraded)

        let short = HealthBoard(policy: HealthPolicy(reorderWindowMinutes: 1))
        for _ in 0..<10 { short.record("gpt-4o", .failure(.overloaded, latencyMs: 30), at: at(0)) }
        #expect(!short.isDegraded("gpt-4o", at: at(minute)))
    }

    @Test("excluded outcomes never reach a model's window")
    func excluded() {
        let board = HealthBoard(policy: .default)
        for _ in 0..<10 { board.record("gpt-4o", .failure(.contextLength, latencyMs: 30), at: at(0)) }
        #expect(board.snapshots().isEmpty)
        #expect(!board.isDegraded("gpt-4o", at: at(0)))
    }
}
