import Testing

@testable import FallbackCore

@Suite("Circuit breaker: growing and shrinking open durations")
struct BreakerDurationTests {
    let t0 = BreakerFixture.t0

    @Test("each re-trip doubles the open duration up to maxOpenMs: 300 s, 600 s, 1200 s, 2400 s, 3600 s, 3600 s")
    func durationsGrowToCap() {
        var breaker = CircuitBreaker(policy: .default)
        BreakerFixture.fail(&breaker, 3, at: t0)
        var trippedAt = t0
        var seen: [Int64] = []
        var levels: [Int] = []
        for _ in 0..<6 {
            let status = breaker.status(at: trippedAt)
            guard let until = status.openUntil else {
                Issue.record("not open after a trip")
                return
            }
            seen.append(until.millis(since: trippedAt))
            levels.append(status.level)
            trippedAt = until
            #expect(BreakerFixture.probe(&breaker, .failure(.serverError, latencyMs: 1), at: until))
        }
        #expect(seen == [300_000, 600_000, 1_200_000, 2_400_000, 3_600_000, 3_600_000])
        #expect(levels == [1, 2, 3, 4, 5, 5])
    }

    @Test("openDuration and the level cap follow the policy")
    func durationFormula() {
        let policy = BreakerPolicy(openMs: 1_000, maxOpenMs: 10_000, backoffMultiplier: 3)
        #expect((1...6).map { policy.openDuration(level: $0) } == [1_000, 3_000, 9_000, 10_000, 10_000, 10_000])
        #expect(policy.maxLevel == 4)
        let flat = BreakerPolicy(openMs: 5_000, backoffMultiplier: 1)
        #expect(flat.openDuration(level: 9) == 5_000)
        #expect(flat.maxLevel == 1)
        #expect(BreakerPolicy.default.maxLevel == 5)
    }

    @Test("a probe success keeps the level, so a flapping model re-trips for longer")
    func flappingRetripsLonger() {
        var breaker = CircuitBreaker(policy: .default)
        BreakerFixture.fail(&breaker, 3, at: t0)
        let reopen = t0.adding(millis: 300_000)
        #expect(BreakerFixture.probe(&breaker, .success(latencyMs: 1), at: reopen))
        let soon = reopen.adding(millis: 1_000)
        BreakerFixture.fail(&breaker, 3, at: soon)
        #expect(breaker.status(at: soon).openUntil == soon.adding(millis: 600_000))
        #expect(breaker.status(at: soon).level == 2)
    }

    @Test("staying healthy lowers the level by one per full duration of the current level")
    func levelShrinks() {
        var breaker = CircuitBreaker(policy: .default)
        BreakerFixture.fail(&breaker, 3, at: t0)
        let firstReopen = t0.adding(millis: 300_000)
        BreakerFixture.probe(&breaker, .failure(.timeout, latencyMs: 1), at: firstReopen)
        let closedAt = firstReopen.adding(millis: 600_000)
        #expect(BreakerFixture.probe(&breaker, .success(latencyMs: 1), at: closedAt))
        #expect(breaker.status(at: closedAt).level == 2)

        // Failures that do not trip do not restart the healthy period.
        BreakerFixture.fail(&breaker, 2, at: closedAt.adding(millis: 100_000))
        #expect(breaker.status(at: closedAt.adding(millis: 599_999)).level == 2)
        #expect(breaker.status(at: closedAt.adding(millis: 600_000)).level == 1)
        #expect(breaker.status(at: closedAt.adding(millis: 899_999)).level == 1)
        #expect(breaker.status(at: closedAt.adding(millis: 900_000)).level == 0)

        // Back at level 0, the next trip opens for the base duration again.
        let later = closedAt.adding(millis: 1_000_000)
        BreakerFixture.fail(&breaker, 3, at: later)
        #expect(breaker.status(at: later).openUntil == later.adding(millis: 300_000))
        #expect(breaker.status(at: later).level == 1)
    }

    @Test("the shrink is computed lazily: one late read catches up several levels")
    func shrinkCatchesUp() {
        var breaker = CircuitBreaker(policy: .default)
        BreakerFixture.fail(&breaker, 3, at: t0)
        var at = t0.adding(millis: 300_000)
        for duration: Int64 in [600_000, 1_200_000] {
            BreakerFixture.probe(&breaker, .failure(.timeout, latencyMs: 1), at: at)
            at = at.adding(millis: duration)
        }
        #expect(BreakerFixture.probe(&breaker, .success(latencyMs: 1), at: at))
        #expect(breaker.status(at: at).level == 3)
        // 1200 + 600 + 300 s of health bring level 3 to 0; a second short of that leaves it at 1.
        #expect(breaker.status(at: at.adding(millis: 2_099_999)).level == 1)
        #expect(breaker.status(at: at.adding(millis: 2_100_000)).level == 0)
    }

    @Test("reset drops the level at once")
    func resetDropsLevel() {
        var breaker = CircuitBreaker(policy: .default)
        BreakerFixture.fail(&breaker, 3, at: t0)
        BreakerFixture.probe(&breaker, .failure(.timeout, latencyMs: 1), at: t0.adding(millis: 300_000))
        breaker.reset(at: t0.adding(millis: 300_001))
        BreakerFixture.fail(&breaker, 3, at: t0.adding(millis: 300_002))
        #expect(breaker.status(at: t0.adding(millis: 300_002)).openUntil == t0.adding(millis: 600_002))
    }
}
