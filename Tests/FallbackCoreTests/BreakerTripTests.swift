import Testing

@testable import FallbackCore

@Suite("Circuit breaker: trip rules while closed")
struct BreakerTripTests {
    let t0 = BreakerFixture.t0

    @Test("trips on exactly the third consecutive failure, not the second")
    func consecutiveTripsAtThree() {
        var breaker = CircuitBreaker(policy: .default)
        BreakerFixture.fail(&breaker, 2, at: t0)
        #expect(breaker.status(at: t0).phase == .closed)
        #expect(breaker.status(at: t0).consecutiveFailures == 2)
        #expect(breaker.acquire(at: t0).permit?.isProbe == false)

        let at = t0.adding(millis: 5)
        BreakerFixture.fail(&breaker, 1, at: at)
        let status = breaker.status(at: at)
        #expect(status.phase == .open)
        #expect(status.openUntil == at.adding(millis: 300_000))
        #expect(status.lastTripReason == "3 consecutive failures")
        #expect(status.trips == 1)
        #expect(status.level == 1)
        #expect(status.lastFailureAt == at)
        #expect(breaker.acquire(at: at) == .rejected(phase: .open, until: at.adding(millis: 300_000)))
    }

    @Test("a success resets the consecutive count; an excluded outcome does not")
    func successResetsConsecutive() {
        var breaker = CircuitBreaker(policy: .default)
        BreakerFixture.fail(&breaker, 2, at: t0)
        BreakerFixture.succeed(&breaker, at: t0)
        #expect(breaker.status(at: t0).consecutiveFailures == 0)
        BreakerFixture.fail(&breaker, 2, at: t0)
        #expect(breaker.status(at: t0).phase == .closed)
        #expect(breaker.status(at: t0).consecutiveFailures == 2)
        // An invalid request says nothing about the model: the run of failures goes on.
        BreakerFixture.fail(&breaker, 1, at: t0, type: .invalidRequest)
        #expect(breaker.status(at: t0).consecutiveFailures == 2)
        BreakerFixture.fail(&breaker, 1, at: t0)
        #expect(breaker.status(at: t0).phase == .open)
    }

    @Test("the failure-rate rule waits for minimumCalls, even at 100% failures")
    func failureRateNeedsMinimumCalls() {
        let policy = BreakerPolicy(consecutiveFailures: 0, failureRateThreshold: 0.5, windowSize: 20, minimumCalls: 10)
        var breaker = CircuitBreaker(policy: policy)
        BreakerFixture.fail(&breaker, 9, at: t0)
        let below = breaker.status(at: t0)
        #expect(below.phase == .closed)
        #expect(below.callsInWindow == 9)
        #expect(below.failureRate == nil)
        #expect(below.consecutiveFailures == 9)

        BreakerFixture.fail(&breaker, 1, at: t0)
        let tripped = breaker.status(at: t0)
        #expect(tripped.phase == .open)
        #expect(tripped.lastTripReason == "failure rate 1.00 >= 0.5 over 10 calls")
        #expect(tripped.callsInWindow == 0)
    }

    @Test("the failure rate trips at the threshold (not below) over a sliding window")
    func failureRateSlides() {
        let policy = BreakerPolicy(consecutiveFailures: 0, failureRateThreshold: 0.5, windowSize: 10, minimumCalls: 10)
        var breaker = CircuitBreaker(policy: policy)
        for _ in 0..<25 { BreakerFixture.succeed(&breaker, at: t0) }
        #expect(breaker.status(at: t0).callsInWindow == 10)
        BreakerFixture.fail(&breaker, 4, at: t0)
        #expect(breaker.status(at: t0).phase == .closed)
        #expect(breaker.status(at: t0).failureRate == 0.4)
        // The window holds the last 10 calls: 5 failures of 10 is 0.5, at the threshold.
        BreakerFixture.fail(&breaker, 1, at: t0)
        #expect(breaker.status(at: t0).phase == .open)
        #expect(breaker.status(at: t0).lastTripReason == "failure rate 0.50 >= 0.5 over 10 calls")
    }

    @Test("slow calls (strictly slower than slowCallMs) trip the slow-call rule, successes included")
    func slowCallsTrip() {
        let policy = BreakerPolicy(
            consecutiveFailures: 0, failureRateThreshold: nil, windowSize: 4, minimumCalls: 4,
            slowCallMs: 1_000, slowCallRateThreshold: 0.5)
        var breaker = CircuitBreaker(policy: policy)
        for _ in 0..<4 { BreakerFixture.succeed(&breaker, at: t0, latencyMs: 1_000) }
        #expect(breaker.status(at: t0).slowRate == 0)
        BreakerFixture.succeed(&breaker, at: t0, latencyMs: 1_001)
        #expect(breaker.status(at: t0).phase == .closed)
        #expect(breaker.status(at: t0).slowRate == 0.25)
        BreakerFixture.succeed(&breaker, at: t0, latencyMs: 5_000)
        let status = breaker.status(at: t0)
        #expect(status.phase == .open)
        #expect(status.lastTripReason?.hasPrefix("slow calls: rate 0.50 >= 0.5 over 4 calls") == true)
    }

    @Test("slowRate is nil while the slow-call rule is off")
    func slowRateOff() {
        var breaker = CircuitBreaker(policy: BreakerPolicy(consecutiveFailures: 0, minimumCalls: 2))
        for _ in 0..<3 { BreakerFixture.succeed(&breaker, at: t0, latencyMs: 60_000) }
        #expect(breaker.status(at: t0).slowRate == nil)
        #expect(breaker.status(at: t0).failureRate == 0)
    }

    @Test("outcomes that say nothing about the model are excluded")
    func excludedOutcomes() {
        var breaker = CircuitBreaker(policy: BreakerPolicy(consecutiveFailures: 1, minimumCalls: 1))
        for type in [ErrorType.cancelled, .invalidRequest, .contextLength, .contentFilter] {
            for _ in 0..<5 {
                let permit = breaker.acquire(at: t0).permit
                #expect(permit != nil)
                if let permit {
                    #expect(breaker.record(.failure(type, latencyMs: 10), permit: permit, at: t0) == false)
                }
                #expect(breaker.recordExternal(.failure(type, latencyMs: 10), at: t0) == false)
            }
        }
        let status = breaker.status(at: t0)
        #expect(status.phase == .closed)
        #expect(status.callsInWindow == 0)
        #expect(status.lastFailureAt == nil)
    }

    @Test("a quota failure opens at once like auth; a misconfigured one counts like any failure")
    func quotaOpensAtOnceMisconfiguredCounts() {
        let policy = BreakerPolicy(consecutiveFailures: 3, failureRateThreshold: nil, authOpenMs: 3_600_000)
        var quota = CircuitBreaker(policy: policy)
        BreakerFixture.fail(&quota, 1, at: t0, type: .quota)
        #expect(quota.status(at: t0).phase == .open)
        #expect(quota.status(at: t0).misconfigured)
        #expect(quota.status(at: t0).lastTripReason == "quota: misconfigured")
        #expect(quota.status(at: t0).openUntil == t0.adding(millis: 3_600_000))

        var rejected = CircuitBreaker(policy: policy)
        BreakerFixture.fail(&rejected, 2, at: t0, type: .misconfigured)
        #expect(rejected.status(at: t0).phase == .closed, "two rejected parameters: not yet the trip rule")
        BreakerFixture.fail(&rejected, 1, at: t0, type: .misconfigured)
        #expect(rejected.status(at: t0).phase == .open)
        #expect(!rejected.status(at: t0).misconfigured)

        var truncated = CircuitBreaker(policy: policy)
        BreakerFixture.fail(&truncated, 5, at: t0, type: .truncated)
        #expect(truncated.status(at: t0).phase == .closed, "a truncated answer says nothing about the model's health")
    }

    @Test("an auth failure opens at once for authOpenMs, flagged misconfigured, level untouched")
    func authOpensAtOnce() {
        let policy = BreakerPolicy(consecutiveFailures: 0, failureRateThreshold: nil, authOpenMs: 7_200_000)
        var breaker = CircuitBreaker(policy: policy)
        BreakerFixture.fail(&breaker, 1, at: t0, type: .auth)
        let status = breaker.status(at: t0)
        #expect(status.phase == .open)
        #expect(status.misconfigured)
        #expect(status.openUntil == t0.adding(millis: 7_200_000))
        #expect(status.lastTripReason == "auth: misconfigured")
        #expect(status.level == 0)
        let decision = breaker.acquire(at: t0.adding(millis: 7_199_999))
        #expect(decision == .rejected(phase: .open, until: t0.adding(millis: 7_200_000)))

        let probe = breaker.acquire(at: t0.adding(millis: 7_200_000)).permit
        #expect(probe?.isProbe == true)
        if let probe { breaker.record(.success(latencyMs: 10), permit: probe, at: t0.adding(millis: 7_200_000)) }
        #expect(breaker.status(at: t0.adding(millis: 7_200_000)).phase == .closed)
        #expect(!breaker.status(at: t0.adding(millis: 7_200_000)).misconfigured)
    }

    @Test("a trip starts the next closed period with clean counters")
    func tripClearsCounters() {
        var breaker = CircuitBreaker(policy: .default)
        BreakerFixture.fail(&breaker, 3, at: t0)
        let reopen = t0.adding(millis: 300_000)
        BreakerFixture.probe(&breaker, .success(latencyMs: 5), at: reopen)
        #expect(breaker.status(at: reopen).phase == .closed)
        #expect(breaker.status(at: reopen).callsInWindow == 0)
        #expect(breaker.status(at: reopen).consecutiveFailures == 0)
        BreakerFixture.fail(&breaker, 2, at: reopen)
        #expect(breaker.status(at: reopen).phase == .closed)
        BreakerFixture.fail(&breaker, 1, at: reopen)
        #expect(breaker.status(at: reopen).phase == .open)
    }
}

// MARK: - Fixture shared by the Breaker*Tests suites

enum BreakerFixture {
    /// The starting moment of every breaker test.
    static let t0 = Moment(nanos: 1_000_000_000, unixMillis: 1_767_225_600_000)

    /// `count` calls that each take a permit and fail with `type`.
    static func fail(_ breaker: inout CircuitBreaker, _ count: Int, at now: Moment, type: ErrorType = .serverError) {
        for _ in 0..<count {
            if let permit = breaker.acquire(at: now).permit {
                breaker.record(.failure(type, latencyMs: 20), permit: permit, at: now)
            }
        }
    }

    /// One call that takes a permit and succeeds.
    static func succeed(_ breaker: inout CircuitBreaker, at now: Moment, latencyMs: Int64 = 20) {
        if let permit = breaker.acquire(at: now).permit {
            breaker.record(.success(latencyMs: latencyMs), permit: permit, at: now)
        }
    }

    /// Takes a probe permit at `now` (which must be half-open time) and records `outcome` with it.
    @discardableResult
    static func probe(_ breaker: inout CircuitBreaker, _ outcome: CallOutcome, at now: Moment) -> Bool {
        guard let permit = breaker.acquire(at: now).permit, permit.isProbe else { return false }
        return breaker.record(outcome, permit: permit, at: now)
    }
}
