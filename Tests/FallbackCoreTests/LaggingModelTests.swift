import Testing

@testable import FallbackCore

@Suite("Outage conduct: late calls, lagging models, gray-failure recovery")
struct LaggingModelTests {
    func succeed(_ breaker: inout CircuitBreaker, calls: Int, at now: Moment) {
        for _ in 0..<calls {
            if let permit = breaker.acquire(at: now).permit {
                breaker.record(CallOutcome(success: true, errorType: nil, latencyMs: 100), permit: permit, at: now)
            }
        }
    }

    @Test("late calls still out count as the newest timeouts: three of the last ten trip, whatever older successes fill the window")
    func lateCallsTripTheTimeoutRate() throws {
        let clock = ManualClock()
        var breaker = CircuitBreaker(policy: BreakerPolicy(windowSize: 20, minimumCalls: 10, timeoutRateThreshold: 0.25))
        succeed(&breaker, calls: 20, at: clock.now())
        clock.advance(millis: 10)
        let permits = (0..<3).compactMap { _ in breaker.acquire(at: clock.now()).permit }
        clock.advance(millis: 400)
        let lagging = [breaker.markLate(permits[0], at: clock.now()), breaker.markLate(permits[1], at: clock.now())]
        #expect(lagging == [false, true], "two late calls, none answered since")
        #expect(breaker.status(at: clock.now()).phase == .closed, "two of ten is under a quarter")
        _ = breaker.markLate(permits[2], at: clock.now())
        let status = breaker.status(at: clock.now())
        #expect(status.phase == .open)
        #expect(status.trippedOnTimeouts)
        #expect(status.lastTripReason?.contains("timeout rate 0.30") == true)
        #expect(status.lastTripReason?.contains("3 still out") == true)
    }

    @Test("a late call that then answers is judged by its answer: it no longer counts as a timeout")
    func lateThenAnsweredIsWithdrawn() {
        let clock = ManualClock()
        var breaker = CircuitBreaker(policy: BreakerPolicy(windowSize: 20, minimumCalls: 10, timeoutRateThreshold: 0.25))
        succeed(&breaker, calls: 20, at: clock.now())
        for _ in 0..<5 {
            guard let permit = breaker.acquire(at: clock.now()).permit else { return }
            clock.advance(millis: 400)
            _ = breaker.markLate(permit, at: clock.now())
            breaker.record(CallOutcome(success: true, errorType: nil, latencyMs: 420), permit: permit, at: clock.now())
        }
        #expect(breaker.status(at: clock.now()).phase == .closed, "five late calls that answered are five successes")
        #expect(breaker.late.isEmpty)
    }

    @Test("lagging: two late calls that started after the newest success; a success of a later call ends it")
    func laggingNeedsTwoUnansweredLateCalls() throws {
        let clock = ManualClock()
        var breaker = CircuitBreaker(policy: BreakerPolicy(minimumCalls: 10))
        succeed(&breaker, calls: 2, at: clock.now())
        clock.advance(millis: 10)
        let first = try #require(breaker.acquire(at: clock.now()).permit)
        let second = try #require(breaker.acquire(at: clock.now()).permit)
        clock.advance(millis: 10)
        let third = try #require(breaker.acquire(at: clock.now()).permit)
        clock.advance(millis: 400)
        let afterFirst = breaker.markLate(first, at: clock.now())
        #expect(!afterFirst, "one late call may be bad luck")
        #expect(!breaker.status(at: clock.now()).lagging)
        let afterSecond = breaker.markLate(second, at: clock.now())
        #expect(afterSecond)
        #expect(breaker.status(at: clock.now()).lagging)
        // A call that started after both answers: the model still answers.
        breaker.record(CallOutcome(success: true, errorType: nil, latencyMs: 390), permit: third, at: clock.now())
        #expect(!breaker.status(at: clock.now()).lagging)
        #expect(breaker.status(at: clock.now()).phase == .closed)
    }

    @Test("a lagging model is planned after the models answering in time")
    func laggingModelGoesLast() throws {
        let clock = ManualClock()
        let resilience = Resilience(breakers: BreakerBoard(), health: HealthBoard())
        let permits = (0..<2).compactMap { _ in resilience.acquire(Seed.gpt4o, at: clock.now()).permit }
        clock.advance(millis: 500)
        for permit in permits { _ = resilience.markLate(Seed.gpt4o, permit: permit, at: clock.now()) }
        let plan = resilience.plan(chain: "default", models: [Seed.gpt4o, Seed.sonnet], at: clock.now())
        #expect(plan.steps.map(\.model.name) == ["claude-3-5-sonnet", "gpt-4o"])
        #expect(plan.steps.last?.reason == .lagging)
        #expect(plan.triedSteps.count == 2, "still tried, last")
    }

    @Test("a model out for timeouts comes back after five good probes in a row, a second apart; a bad one starts over")
    func grayFailureNeedsConfirmingProbes() throws {
        let clock = ManualClock()
        let resilience = Resilience(breakers: BreakerBoard(), health: HealthBoard())
        let model = Seed.gpt4o
        for _ in 0..<3 {
            if let permit = resilience.acquire(model, at: clock.now()).permit {
                resilience.observe(model, .failure(.timeout, latencyMs: 30_000), permit: permit, at: clock.now())
            }
        }
        var status = resilience.breakers.status("gpt-4o", at: clock.now())
        #expect(status.phase == .open)
        #expect(status.trippedOnTimeouts)
        #expect(status.lastTripReason == "3 consecutive timeouts")
        let plan = resilience.plan(chain: "default", models: [model, Seed.sonnet], at: clock.now())
        func probe(_ success: Bool) {
            #expect(resilience.recoveryProbesDue(plan, at: clock.now()).map(\.name) == ["gpt-4o"])
            resilience.recoveryProbeEnded(model, success: success, at: clock.now())
        }
        for _ in 0..<4 {
            probe(true)
            #expect(resilience.breakers.status("gpt-4o", at: clock.now()).phase == .open)
            #expect(resilience.recoveryProbesDue(plan, at: clock.now().adding(millis: 999)).isEmpty, "a second apart")
            clock.advance(millis: 1_000)
        }
        probe(false)
        #expect(resilience.breakers.status("gpt-4o", at: clock.now()).trippedOnTimeouts, "a failed probe keeps the cause")
        clock.advance(millis: 5_000)
        for _ in 0..<4 {
            probe(true)
            clock.advance(millis: 1_000)
        }
        #expect(resilience.breakers.status("gpt-4o", at: clock.now()).phase == .open, "four since the failure")
        probe(true)
        status = resilience.breakers.status("gpt-4o", at: clock.now())
        #expect(status.phase == .closed)
        #expect(!status.trippedOnTimeouts)
    }

    @Test("a model out for errors comes back on its first good probe")
    func errorTripNeedsOneProbe() throws {
        let clock = ManualClock()
        let resilience = Resilience(breakers: BreakerBoard(), health: HealthBoard())
        for _ in 0..<3 {
            if let permit = resilience.acquire(Seed.gpt4o, at: clock.now()).permit {
                resilience.observe(Seed.gpt4o, .failure(.serverError, latencyMs: 10), permit: permit, at: clock.now())
            }
        }
        #expect(!resilience.breakers.status("gpt-4o", at: clock.now()).trippedOnTimeouts)
        let plan = resilience.plan(chain: "default", models: [Seed.gpt4o], at: clock.now())
        #expect(resilience.recoveryProbesDue(plan, at: clock.now()).count == 1)
        resilience.recoveryProbeEnded(Seed.gpt4o, success: true, at: clock.now())
        #expect(resilience.breakers.status("gpt-4o", at: clock.now()).phase == .closed)
    }

    @Test("when its model turns lagging, a first attempt still out gets its hedge at once, not at its own hedge time, budget or not")
    func laggingWakesTheRacesStillOut() async throws {
        let invoker = LatchedInvoker()
        let clock = FiredClock()
        let recorder = CollectingRecorder()
        let resilience = Resilience(breakers: BreakerBoard(), health: HealthBoard())
        let router = Router(
            pool: try Seed.pool(), invoker: invoker, recorder: recorder, resilience: resilience, clock: clock,
            policy: RoutingPolicy(hedges: ["default": .afterMs(300)]), hedgeBudget: HedgeBudget(ratio: 0))
        let running = Task { await router.execute(CompletionRequest(requestID: "r", messages: [.user("hi")])) }
        await invoker.waitForCall("gpt-4o")
        for _ in 0..<10_000 where clock.sleeping == 0 { await Task.yield() }
        #expect(clock.sleeping == 1, "its own hedge timer is armed")
        // Two other calls of gpt-4o, sent before, go late: the model is lagging.
        let others = (0..<2).compactMap { _ in resilience.acquire(Seed.gpt4o, at: clock.now()).permit }
        #expect(!resilience.markLate(Seed.gpt4o, permit: others[0], at: clock.now()))
        #expect(resilience.markLate(Seed.gpt4o, permit: others[1], at: clock.now()))
        await invoker.waitForCall("claude-3-5-sonnet")
        #expect(clock.sleeping == 1, "hedged before its timer fired")
        invoker.answer("claude-3-5-sonnet", .success(ProviderResponse(content: "rescued", usage: .zero)))
        let result = try #require(await running.value.success)
        #expect(result.model.name == "claude-3-5-sonnet")
        #expect(result.attempts.first { $0.model == "claude-3-5-sonnet" }?.hedged == true)
        // Meanwhile a new request would try claude first.
        let plan = router.plan(for: CompletionRequest(requestID: "n", messages: [.user("hi")]), at: clock.now())
        #expect(plan.steps.first?.model.name == "claude-3-5-sonnet")
        #expect(plan.steps.first { $0.model.name == "gpt-4o" }?.reason == .lagging)
    }
}

@Suite("Outage conduct: the p95 a hedge waits for")
struct RecentLatenciesTests {
    @Test("exact nearest-rank p95 of the latest answers, none before minimum_calls, recomputed at most once a second")
    func exactP95() {
        let clock = ManualClock()
        let recent = RecentLatencies(capacity: 100)
        for ms in 1...9 { recent.record("m", latencyMs: Int64(ms)) }
        #expect(recent.p95("m", minimumCalls: 10, at: clock.now()) == nil)
        // 240...360 ms evenly: the histogram would say about 339 or 405; the exact p95 is 353.
        for i in 0..<100 { recent.record("m", latencyMs: Int64(240 + (i * 121) / 100)) }
        clock.advance(millis: 1_000)
        #expect(recent.p95("m", minimumCalls: 10, at: clock.now()) == 353)
        // The ring keeps the latest 100: a slowdown moves it, but only on the next refresh.
        for _ in 0..<100 { recent.record("m", latencyMs: 3_000) }
        #expect(recent.p95("m", minimumCalls: 10, at: clock.now().adding(millis: 999)) == 353)
        #expect(recent.p95("m", minimumCalls: 10, at: clock.now().adding(millis: 1_000)) == 3_000)
        #expect(recent.p95("other", minimumCalls: 1, at: clock.now()) == nil)
    }
}
