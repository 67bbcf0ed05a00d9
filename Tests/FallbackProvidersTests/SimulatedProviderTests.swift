import FallbackCore
import Testing

@testable import FallbackProviders

@Suite struct SimulatedProviderTests {
    private func provider(_ simulation: SimulationSettings, clock: any FallbackClock = ManualClock()) -> SimulatedProvider {
        SimulatedProvider(
            settings: ProviderSettings(name: "sim", kind: .simulated, simulation: simulation), clock: clock)
    }

    private let messages = [
        ChatMessage(role: .system, content: "sys"),
        ChatMessage(role: .user, content: String(repeating: "q", count: 100)),
    ]

    /// Runs `count` requests one after another and returns their outcomes.
    private func run(_ sim: SimulatedProvider, _ count: Int, deadline: Moment? = nil) async
        -> [Result<ProviderResponse, ProviderFailure>]
    {
        var out: [Result<ProviderResponse, ProviderFailure>] = []
        for _ in 0..<count {
            let request = testRequest(messages, model: testModel(provider: "sim", id: "sim-1"))
            out.append(await sim.complete(request))
        }
        return out
    }

    private let noisy = SimulationSettings(
        seed: 7, failureRate: 0.3, failureKinds: [.serverError, .rateLimited, .overloaded, .auth])

    @Test func sameSeedSameSequence() async {
        let first = await run(provider(noisy), 300)
        let second = await run(provider(noisy), 300)
        #expect(first == second)
        var other = noisy
        other.seed = 8
        #expect(await run(provider(other), 300) != first)
        #expect(Set(first.compactMap { $0.failure?.type }) == [.serverError, .rateLimited, .overloaded, .auth])
    }

    @Test func planIsPureAndLatencyWithinJitter() {
        let settings = SimulationSettings(seed: 42, latencyMs: 40, latencyJitterMs: 20)
        var latencies: Set<Int64> = []
        for index in 0..<500 as Range<UInt64> {
            let plan = SimulatedProvider.plan(settings, requestIndex: index, elapsedSeconds: 0, modelID: "m", messages: messages)
            #expect(plan == SimulatedProvider.plan(settings, requestIndex: index, elapsedSeconds: 0, modelID: "m", messages: messages))
            #expect((20...60).contains(plan.latencyMs))
            latencies.insert(plan.latencyMs)
        }
        #expect(latencies.count > 30)
        let clamped = SimulationSettings(seed: 1, latencyMs: 5, latencyJitterMs: 50)
        for index in 0..<200 as Range<UInt64> {
            #expect(SimulatedProvider.plan(clamped, requestIndex: index, elapsedSeconds: 0, modelID: "m", messages: []).latencyMs >= 0)
        }
    }

    @Test func outageByRequestCount() async {
        let sim = provider(SimulationSettings(seed: 3, outages: [.requests(5..<20, error: .serverError)]))
        let outcomes = await run(sim, 30)
        for (index, outcome) in outcomes.enumerated() {
            let expected: ErrorType? = (5..<20).contains(index) ? .serverError : nil
            #expect(outcome.failure?.type == expected, "request \(index)")
        }
        #expect(outcomes[5].failure?.httpStatus == 500)
        #expect(sim.requestCount == 30)
    }

    @Test func outageByTime() async {
        let clock = ManualClock()
        let sim = provider(SimulationSettings(seed: 3, outages: [.seconds(from: 10, to: 20, error: .overloaded)]), clock: clock)
        #expect(await run(sim, 1)[0].failure == nil)
        clock.advance(millis: 10_000)
        #expect(await run(sim, 1)[0].failure?.type == .overloaded)
        #expect(await run(sim, 1)[0].failure?.httpStatus == 529)
        clock.advance(millis: 10_000)
        #expect(await run(sim, 1)[0].failure == nil)
    }

    @Test func failureRateWithinBounds() async {
        let outcomes = await run(provider(SimulationSettings(seed: 11, failureRate: 0.1)), 2000)
        let failures = outcomes.filter { $0.failure != nil }.count
        #expect((140...260).contains(failures), "\(failures) failures")
        #expect(outcomes.allSatisfy { $0.failure == nil || $0.failure?.type == .serverError })
        let never = await run(provider(SimulationSettings(seed: 11, failureRate: 0)), 500)
        #expect(never.allSatisfy { $0.failure == nil })
        let always = await run(provider(SimulationSettings(seed: 11, failureRate: 1)), 500)
        #expect(always.allSatisfy { $0.failure != nil })
    }

    @Test func successContentAndUsage() throws {
        let plan = SimulatedProvider.plan(SimulationSettings(seed: 5), requestIndex: 0, elapsedSeconds: 0, modelID: "sim-1", messages: messages)
        let response = try plan.outcome.get()
        #expect(response.content.hasPrefix("[simulated sim-1] " + String(repeating: "q", count: 60) + " "))
        #expect(response.content.split(separator: " ").count == 3 + 3)
        #expect(response.usage.inputTokens == 26)  // 103 chars / 4, rounded up
        #expect(response.usage.outputTokens == (response.content.count + 3) / 4)
    }

    @Test func latencyPassesOnTheInjectedClock() async {
        let clock = ManualClock()
        let sim = provider(SimulationSettings(seed: 1, latencyMs: 250), clock: clock)
        let start = clock.now()
        let outcome = await sim.complete(testRequest(messages, deadline: start.adding(millis: 5_000)))
        #expect(outcome.failure == nil)
        #expect(clock.now().millis(since: start) == 250, "the manual clock jumped by exactly the simulated latency")
    }

    @Test func latencyPastDeadlineTimesOutAtTheDeadline() async {
        let clock = ManualClock()
        let sim = provider(SimulationSettings(seed: 1, latencyMs: 10_000), clock: clock)
        let start = clock.now()
        let outcome = await sim.complete(testRequest(messages, deadline: start.adding(millis: 100)))
        #expect(outcome.failure?.type == .timeout)
        #expect(clock.now().millis(since: start) == 100, "it gave up at the deadline, not after the latency")
    }

    @Test func timeoutKindSleepsFiveTimesLatency() async {
        let clock = ManualClock()
        let sim = provider(SimulationSettings(seed: 1, latencyMs: 20, failureRate: 1, failureKinds: [.timeout]), clock: clock)
        let start = clock.now()
        let outcome = await sim.complete(testRequest(messages, deadline: start.adding(millis: 5_000)))
        #expect(outcome.failure?.type == .timeout)
        #expect(clock.now().millis(since: start) == 100)
    }

    @Test func cancellationEndsTheSleep() async {
        let clock = HeldClock()
        let sim = provider(SimulationSettings(seed: 1, latencyMs: 20_000), clock: clock)
        let request = testRequest(messages, deadline: clock.now().adding(millis: 60_000))
        let task = Task { await sim.complete(request) }
        await clock.sleeping.wait()
        task.cancel()
        // A HeldClock never wakes a sleeper by itself: only cancellation can end this call.
        #expect(await task.value.failure?.type == .cancelled)
    }
}
