import Testing

@testable import FallbackCore

@Suite("Router: overdue attempts")
struct OverdueHedgeTests {
    func resilience(_ clock: any FallbackClock, history latency: Int64?) -> Resilience {
        let resilience = Resilience(
            breakers: BreakerBoard(), health: HealthBoard(), overdue: OverdueCalls(multiple: 5, floorMs: 1_000))
        if let latency {
            for _ in 0..<10 {
                resilience.health.record("gpt-4o", CallOutcome(success: true, errorType: nil, latencyMs: latency), at: clock.now())
            }
        }
        return resilience
    }

    @Test("overdue is a multiple of the model's median, never under the floor, unknown without history")
    func limits() {
        let clock = ManualClock()
        #expect(resilience(clock, history: 100).overdueMs("gpt-4o", at: clock.now()) == 1_000)
        // About 5 × 2 s (the histogram estimates percentiles within a few percent).
        #expect(resilience(clock, history: 2_000).overdueMs("gpt-4o", at: clock.now()).map { (9_000...11_000).contains($0) } == true)
        // A few slow answers among many fast ones do not move it: the median holds.
        let mixed = resilience(clock, history: 100)
        for _ in 0..<3 { mixed.health.record("gpt-4o", CallOutcome(success: true, errorType: nil, latencyMs: 3_000), at: clock.now()) }
        #expect(mixed.overdueMs("gpt-4o", at: clock.now()) == 1_000)
        #expect(resilience(clock, history: nil).overdueMs("gpt-4o", at: clock.now()) == nil)
        #expect(OverdueCalls(multiple: 0).limitMs("gpt-4o", health: HealthBoard(), at: clock.now()) == nil)
    }

    @Test("an overdue first attempt gets the next model beside it even with no hedge rule and no budget")
    func overdueHedgeIgnoresTheBudget() async throws {
        let invoker = LatchedInvoker()
        let clock = FiredClock()
        let recorder = CollectingRecorder()
        let router = Router(
            pool: try Seed.pool(), invoker: invoker, recorder: recorder, resilience: resilience(clock, history: 100),
            clock: clock, hedgeBudget: HedgeBudget(ratio: 0))
        let running = Task { await router.execute(CompletionRequest(requestID: "r", messages: [.user("hi")])) }
        await invoker.waitForCall("gpt-4o")
        for _ in 0..<10_000 where clock.sleeping == 0 { await Task.yield() }
        #expect(clock.sleeping == 1, "one timer: the overdue mark")
        clock.fire()
        await invoker.waitForCall("claude-3-5-sonnet")
        invoker.answer("claude-3-5-sonnet", .success(ProviderResponse(content: "late rescue", usage: .zero)))
        let result = try #require(await running.value.success)
        #expect(result.model.name == "claude-3-5-sonnet")
        #expect(result.attempts.first { $0.model == "claude-3-5-sonnet" }?.hedged == true)
        #expect(result.attempts.first { $0.model == "gpt-4o" }?.errorType == .timeout)
    }

    @Test("a model without history runs alone: nothing says when it would be late")
    func noHistoryNoHedge() throws {
        let clock = ManualClock()
        let router = Router(
            pool: try Seed.pool(), invoker: LatchedInvoker(), recorder: CollectingRecorder(),
            resilience: resilience(clock, history: nil), clock: clock, hedgeBudget: HedgeBudget(ratio: 0))
        let plan = router.plan(for: CompletionRequest(requestID: "r", messages: [.user("hi")]), at: clock.now())
        let steps = plan.triedSteps
        #expect(router.hedgePlan(for: steps[0], plan: plan, later: Array(steps.dropFirst()), at: clock.now()) == nil)
    }
}
