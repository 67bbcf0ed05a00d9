import Synchronization
import Testing

@testable import FallbackCore

@Suite("Outage conduct: breaker rules on the manual clock")
struct OutageBreakerTests {
    let t0 = BreakerFixture.t0

    @Test("a call still out past hang_after counts as a timeout at once, and its end is not counted again")
    func hungCallsCountWhileRunning() {
        let policy = BreakerPolicy(consecutiveFailures: 0, failureRateThreshold: nil, windowSize: 4, minimumCalls: 4, timeoutRateThreshold: 0.5, hangAfterMs: 1_000)
        var breaker = CircuitBreaker(policy: policy)
        let hung = [breaker.acquire(at: t0).permit, breaker.acquire(at: t0).permit]
        BreakerFixture.succeed(&breaker, at: t0)
        BreakerFixture.succeed(&breaker, at: t0)
        #expect(breaker.status(at: t0.adding(millis: 999)).callsInWindow == 2, "not hung yet")
        // Read 1 s later (another request planning): both outstanding calls now count as timeouts.
        let later = t0.adding(millis: 1_001)
        let status = breaker.status(at: later)
        #expect(status.phase == .open, "2 timeouts in 4 calls meets the 50% timeout-rate rule")
        #expect(status.lastTripReason?.contains("timeout rate") == true)
        // The hung calls end after the trip: stale generation, ignored.
        for permit in hung.compactMap({ $0 }) {
            let counted = breaker.record(.failure(.timeout, latencyMs: 5_000), permit: permit, at: later)
            #expect(!counted)
        }
    }

    @Test("a call counted as hung that then ends is not counted twice")
    func hungThenEndedCountsOnce() {
        let policy = BreakerPolicy(consecutiveFailures: 0, failureRateThreshold: nil, windowSize: 10, minimumCalls: 10, hangAfterMs: 100)
        var breaker = CircuitBreaker(policy: policy)
        let permit = breaker.acquire(at: t0).permit
        _ = breaker.status(at: t0.adding(millis: 200))
        #expect(breaker.status(at: t0.adding(millis: 200)).callsInWindow == 1)
        if let permit { breaker.record(.failure(.timeout, latencyMs: 300), permit: permit, at: t0.adding(millis: 300)) }
        #expect(breaker.status(at: t0.adding(millis: 300)).callsInWindow == 1)
        // A call that ends before it hangs is judged by how it ended.
        let quick = breaker.acquire(at: t0.adding(millis: 300)).permit
        if let quick { breaker.record(.success(latencyMs: 50), permit: quick, at: t0.adding(millis: 350)) }
        #expect(breaker.status(at: t0.adding(millis: 5_000)).callsInWindow == 2)
    }

    @Test("a success of a call that started before the latest failure does not reset the count")
    func staleSuccessIgnoredForTheCount() {
        var breaker = CircuitBreaker(policy: BreakerPolicy(hangAfterMs: nil))
        let slow = breaker.acquire(at: t0).permit
        BreakerFixture.fail(&breaker, 2, at: t0.adding(millis: 10))
        if let slow { breaker.record(.success(latencyMs: 500), permit: slow, at: t0.adding(millis: 500)) }
        #expect(breaker.status(at: t0.adding(millis: 500)).consecutiveFailures == 2, "stale: started before the failures")
        BreakerFixture.fail(&breaker, 1, at: t0.adding(millis: 600))
        #expect(breaker.status(at: t0.adding(millis: 600)).phase == .open, "tripped on the 3rd failure, not the 5th")
        // A fresh success does reset it.
        var fresh = CircuitBreaker(policy: BreakerPolicy(hangAfterMs: nil))
        BreakerFixture.fail(&fresh, 2, at: t0)
        BreakerFixture.succeed(&fresh, at: t0.adding(millis: 1))
        #expect(fresh.status(at: t0.adding(millis: 1)).consecutiveFailures == 0)
    }
}

@Suite("Outage conduct: the router on the manual clock")
struct OutageRouterTests {
    func resilientHarness(_ script: [String: [Step]], policy: RoutingPolicy = .default) throws -> (ManualClock, ScriptedInvoker, Router, Resilience) {
        let clock = ManualClock()
        let invoker = ScriptedInvoker(clock: clock, script)
        let resilience = Resilience(breakers: BreakerBoard(), health: HealthBoard())
        let router = Router(
            pool: try Seed.pool(), invoker: invoker, recorder: CollectingRecorder(), resilience: resilience, clock: clock,
            policy: policy)
        return (clock, invoker, router, resilience)
    }

    static func rateLimited(retryAfterMs: Int64) -> Step {
        Step(latencyMs: 20, outcome: .failure(ProviderFailure(.rateLimited, httpStatus: 429, message: "slow down", retryAfterMs: retryAfterMs)))
    }

    @Test("a Retry-After parks the model for every request; the request that heard it moves on at once")
    func retryAfterParksForEveryone() async throws {
        let (clock, invoker, router, resilience) = try resilientHarness([
            "gpt-4o": [Self.rateLimited(retryAfterMs: 20_000), .ok("back")], "claude-3-5-sonnet": [.ok("a"), .ok("b")],
        ])
        let first = try #require(await router.execute(CompletionRequest(requestID: "r1", messages: messages())).success)
        #expect(first.model.name == "claude-3-5-sonnet")
        #expect(invoker.calledModels == ["gpt-4o", "claude-3-5-sonnet"], "no 20 s wait on the same model")
        let second = try #require(await router.execute(CompletionRequest(requestID: "r2", messages: messages())).success)
        #expect(second.model.name == "claude-3-5-sonnet")
        let parked = try #require(second.route.first { $0.model.name == "gpt-4o" })
        #expect(parked.reason == .rateLimitedUntil)
        #expect(parked.until == resilience.parking.parkedUntil("gpt-4o", at: clock.now()))
        #expect(invoker.calledModels.filter { $0 == "gpt-4o" }.count == 1, "nobody called it inside its window")
        clock.advance(millis: 20_000)
        #expect(try #require(await router.execute(CompletionRequest(requestID: "r3", messages: messages())).success).model.name == "gpt-4o")
    }

    @Test("with nothing else to try, a request waits for its only model's Retry-After when it fits the deadline")
    func waitsOnlyWhenNothingElseCanServe() async throws {
        let (clock, invoker, router, _) = try resilientHarness(["gpt-4o": [Self.rateLimited(retryAfterMs: 2_000), .ok("waited")]])
        var request = CompletionRequest(requestID: "r", messages: messages(), models: ["gpt-4o"])
        request.timeoutMs = 10_000
        let start = clock.now()
        let result = try #require(await router.execute(request).success)
        #expect(result.content == "waited")
        #expect(invoker.calls.map { $0.startedAt.millis(since: start) } == [0, 2_020])
    }

    @Test("a timed-out model is not retried while another model can be tried")
    func noRetryAfterTimeout() async throws {
        let (_, invoker, router, _) = try resilientHarness(["gpt-4o": [.fail(.timeout, after: 100)], "claude-3-5-sonnet": [.ok()]])
        _ = await router.execute(CompletionRequest(requestID: "r", messages: messages()))
        #expect(invoker.calledModels == ["gpt-4o", "claude-3-5-sonnet"])
        // A server error is still retried once (the retry policy's default).
        let (_, again, retrying, _) = try resilientHarness(["gpt-4o": [.fail(.serverError), .ok()]])
        _ = await retrying.execute(CompletionRequest(requestID: "r", messages: messages()))
        #expect(again.calledModels == ["gpt-4o", "gpt-4o"])
    }

    @Test("a content filter is the caller's answer by default; a chain may fall back instead")
    func contentFilterPolicy() async throws {
        let (_, invoker, router, _) = try resilientHarness(["gpt-4o": [.fail(.contentFilter, status: 400)], "claude-3-5-sonnet": [.ok()]])
        let failure = try #require(await router.execute(CompletionRequest(requestID: "r", messages: messages())).failure)
        guard case .contentFiltered(let model, let cause) = failure.kind else {
            Issue.record("expected contentFiltered, got \(failure.kind)")
            return
        }
        #expect(model == "gpt-4o" && cause.type == .contentFilter)
        #expect(invoker.calledModels == ["gpt-4o"])
        let (_, fallingBack, router2, _) = try resilientHarness(
            ["gpt-4o": [.fail(.contentFilter, status: 400)], "claude-3-5-sonnet": [.ok()]],
            policy: RoutingPolicy(contentFilter: ["default": .fallback]))
        #expect(try #require(await router2.execute(CompletionRequest(requestID: "r", messages: messages())).success).model.name == "claude-3-5-sonnet")
        #expect(fallingBack.calledModels == ["gpt-4o", "claude-3-5-sonnet"])
    }

    @Test("recovery probes: one at a time, spaced by a growing interval; a success closes the breaker")
    func recoveryProbes() throws {
        let clock = ManualClock()
        let resilience = Resilience(
            breakers: BreakerBoard(), health: HealthBoard(),
            recovery: RecoveryProbes(policy: .init(firstIntervalMs: 5_000, maxIntervalMs: 20_000)))
        let model = Seed.gpt4o
        let now = clock.now()
        for _ in 0..<3 {
            if let permit = resilience.acquire(model, at: now).permit {
                resilience.observe(model, .failure(.serverError, latencyMs: 10), permit: permit, at: now)
            }
        }
        let plan = resilience.plan(chain: "default", models: [model, Seed.sonnet], at: now)
        #expect(plan.steps.first { $0.model.name == "gpt-4o" }?.reason == .open)
        #expect(resilience.recoveryProbesDue(plan, at: now).map(\.name) == ["gpt-4o"])
        #expect(resilience.recoveryProbesDue(plan, at: now).isEmpty, "one probe at a time")
        resilience.recoveryProbeEnded(model, success: false, at: now)
        #expect(resilience.recoveryProbesDue(plan, at: now.adding(millis: 4_999)).isEmpty, "spaced 5 s")
        #expect(resilience.recoveryProbesDue(plan, at: now.adding(millis: 5_000)).count == 1)
        resilience.recoveryProbeEnded(model, success: false, at: now.adding(millis: 5_000))
        #expect(resilience.recoveryProbesDue(plan, at: now.adding(millis: 14_999)).isEmpty, "then 10 s")
        let later = now.adding(millis: 15_000)
        #expect(resilience.recoveryProbesDue(plan, at: later).count == 1)
        resilience.recoveryProbeEnded(model, success: true, at: later)
        #expect(resilience.breakers.status("gpt-4o", at: later).phase == .closed, "back at once, long before open_ms")
    }

    @Test("models out for auth or quota are not probed: they wait for a config change")
    func noProbesForMisconfigured() throws {
        let clock = ManualClock()
        let resilience = Resilience(breakers: BreakerBoard(), health: HealthBoard())
        let now = clock.now()
        if let permit = resilience.acquire(Seed.gpt4o, at: now).permit {
            resilience.observe(Seed.gpt4o, .failure(.quota, latencyMs: 10), permit: permit, at: now)
        }
        let plan = resilience.plan(chain: "default", models: [Seed.gpt4o], at: now)
        #expect(plan.steps.first?.reason == .open)
        #expect(resilience.recoveryProbesDue(plan, at: now).isEmpty)
    }

    @Test("hedge budget: each request earns a share of a hedge; none without budget")
    func hedgeBudget() {
        let budget = HedgeBudget(ratio: 0.1, maxTokens: 1)
        #expect(budget.take())
        #expect(!budget.take())
        for _ in 0..<9 { budget.deposit() }
        #expect(!budget.take(), "0.9 of a hedge is not one")
        budget.deposit()
        #expect(budget.take())
        let none = HedgeBudget(ratio: 0, maxTokens: 1)
        #expect(!none.take(), "a zero ratio starts without a hedge too")
        for _ in 0..<100 { none.deposit() }
        #expect(!none.take())
    }
}
