import Synchronization
import Testing

@testable import FallbackCore

@Suite("CompletionService: budget, shadow, router together")
struct CompletionServiceTests {
    func request(_ id: String, task: String = "default", shadow: Bool? = nil) -> CompletionRequest {
        var request = CompletionRequest(requestID: id, messages: messages(), task: task)
        request.shadow = shadow
        return request
    }

    @Test("a spent budget refuses before any provider is called; other tasks still run")
    func budgetRefusesWithoutCalling() async throws {
        let harness = try Harness(["gpt-4o": [.ok(), .ok()]])
        let budgets = BudgetLedger(budgets: ["default": 0.0005])
        let recorder = FanOutRecorder([harness.recorder, budgets])
        let router = Router(pool: harness.router.pool, invoker: harness.invoker, recorder: recorder, clock: harness.clock)
        let service = CompletionService(router: router, budgets: budgets, clock: harness.clock)

        // 10 in + 20 out on gpt-4o costs 0.00035: under the budget, so served and counted.
        #expect(await service.complete(request("r1")).success?.model.name == "gpt-4o")
        #expect(abs(budgets.spent(task: "default", at: harness.clock.now()) - 0.00035) < 1e-12)
        // Second request: still under (0.00035 < 0.0005), served; now 0.0007, over.
        #expect(await service.complete(request("r2")).success != nil)
        let refused = await service.complete(request("r3"))
        guard case .failure(.budget(let refusal)) = refused else {
            Issue.record("expected a budget refusal, got \(refused)")
            return
        }
        #expect(refusal.task == "default")
        #expect(refusal.budgetUSD == 0.0005)
        #expect(harness.invoker.calledModels == ["gpt-4o", "gpt-4o"], "a refused request must not reach a provider")
        // A task without a budget is never refused.
        #expect(await service.complete(request("r4", task: "complex_reasoning")).failure.map { "\($0)" }?.contains("budget") != true)
    }

    @Test("a sampled request runs its shadow on the next model and the comparison reaches the sink")
    func shadowRunsBesideTheRequest() async throws {
        let harness = try Harness(["gpt-4o": [.ok("the answer is four"), .ok()], "claude-3-5-sonnet": [.ok("the answer is 4")]])
        let results = Mutex<[ShadowResult]>([])
        let (done, signal) = AsyncStream<Void>.makeStream()
        let shadows = ShadowRunner(
            sampler: ShadowSampler(policy: ShadowPolicy(sampleRate: 0)), invoker: harness.invoker,
            recorder: harness.recorder, resilience: nil, clock: harness.clock,
            sink: { result in
                results.withLock { $0.append(result) }
                signal.yield()
            }
        )
        let service = CompletionService(router: harness.router, shadows: shadows, clock: harness.clock)
        let running = Task { await shadows.run() }

        let served = await service.complete(request("r1", shadow: true))
        #expect(served.success?.content == "the answer is four", "the caller's reply is the primary's, unchanged")
        var iterator = done.makeAsyncIterator()
        _ = await iterator.next()
        let result = try #require(results.withLock { $0.first })
        #expect(result.primary.model == "gpt-4o")
        #expect(result.shadow.model == "claude-3-5-sonnet")
        #expect(result.similarity == 0.6, "{the, answer, is} of {the, answer, is, four, 4}")
        #expect(harness.recorder.all.filter(\.shadow).map(\.model) == ["claude-3-5-sonnet"])
        #expect(harness.recorder.all.filter { !$0.shadow }.map(\.model) == ["gpt-4o"])

        // Opting out of a request that sampling would take: no second call.
        let before = harness.invoker.calls.count
        _ = await service.complete(request("r2", shadow: false))
        #expect(harness.invoker.calls.count == before + 1)
        shadows.close()
        await running.value
    }
}
