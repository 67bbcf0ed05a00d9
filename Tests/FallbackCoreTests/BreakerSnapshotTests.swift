import Testing

@testable import FallbackCore

@Suite("Circuit breaker: snapshot and restore")
struct BreakerSnapshotTests {
    let t0 = BreakerFixture.t0

    @Test("an open breaker restored in a new process stays open until the same wall-clock time")
    func openRoundTrip() {
        var breaker = CircuitBreaker(policy: .default)
        BreakerFixture.fail(&breaker, 3, at: t0)
        let snapshot = breaker.snapshot()
        #expect(snapshot.phase == .open)
        #expect(snapshot.openUntilUnixMillis == t0.unixMillis + 300_000)
        #expect(snapshot.level == 1)
        #expect(snapshot.trips == 1)
        #expect(snapshot.lastFailureUnixMillis == t0.unixMillis)
        #expect(snapshot.lastTripReason == "3 consecutive failures")

        // Two minutes later, in a process whose monotonic clock reads something else entirely.
        let now = Moment(nanos: 42_000_000_000_000, unixMillis: t0.unixMillis + 120_000)
        var restored = CircuitBreaker(policy: .default, restoring: snapshot, now: now)
        let until = Moment(nanos: now.nanos + 180_000 * 1_000_000, unixMillis: t0.unixMillis + 300_000)
        let status = restored.status(at: now)
        #expect(status.phase == .open)
        #expect(status.openUntil == until)
        #expect(status.level == 1)
        #expect(status.trips == 1)
        #expect(status.lastFailureAt == Moment(nanos: now.nanos - 120_000 * 1_000_000, unixMillis: t0.unixMillis))
        #expect(restored.acquire(at: now.adding(millis: 179_999)) == .rejected(phase: .open, until: until))
        #expect(restored.acquire(at: now.adding(millis: 180_000)).permit?.isProbe == true)
        #expect(restored.snapshot().phase == .halfOpen)
    }

    @Test("a closed breaker keeps its window and consecutive count across a restore")
    func closedRoundTrip() {
        let policy = BreakerPolicy(slowCallMs: 100)
        var breaker = CircuitBreaker(policy: policy)
        BreakerFixture.succeed(&breaker, at: t0, latencyMs: 10)
        BreakerFixture.succeed(&breaker, at: t0, latencyMs: 500)
        BreakerFixture.fail(&breaker, 1, at: t0)
        if let permit = breaker.acquire(at: t0).permit {
            breaker.record(.failure(.timeout, latencyMs: 900), permit: permit, at: t0)
        }
        // Three failures in a row would trip: break the run with a success, then two failures.
        BreakerFixture.succeed(&breaker, at: t0, latencyMs: 10)
        BreakerFixture.fail(&breaker, 2, at: t0)
        let snapshot = breaker.snapshot()
        #expect(snapshot.phase == .closed)
        // 7: failed, slow, and a timeout (the timeout-rate rule counts it).
        #expect(snapshot.window == [0, 2, 1, 7, 0, 1, 1])
        #expect(snapshot.consecutiveFailures == 2)

        let now = Moment(nanos: 7_000_000, unixMillis: t0.unixMillis + 5_000)
        var restored = CircuitBreaker(policy: policy, restoring: snapshot, now: now)
        #expect(restored.snapshot().window == snapshot.window)
        #expect(restored.snapshot().consecutiveFailures == 2)
        #expect(restored.status(at: now).callsInWindow == 7)
        #expect(restored.status(at: now).failureRate == nil)
        BreakerFixture.fail(&restored, 1, at: now)
        #expect(restored.status(at: now).phase == .open)
    }

    @Test("restoring under a smaller window keeps the newest calls")
    func restoreIntoSmallerWindow() {
        let snapshot = BreakerSnapshot(phase: .closed, window: [1, 1, 1, 0, 0, 2])
        let policy = BreakerPolicy(consecutiveFailures: 0, windowSize: 3, minimumCalls: 3)
        var restored = CircuitBreaker(policy: policy, restoring: snapshot, now: t0)
        #expect(restored.snapshot().window == [0, 0, 2])
        #expect(restored.status(at: t0).failureRate == 0)
    }

    @Test("half-open and isolated come back as they were, with no probes out")
    func otherPhases() {
        var halfOpen = CircuitBreaker(
            policy: .default, restoring: BreakerSnapshot(phase: .halfOpen, level: 2, trips: 4), now: t0)
        #expect(halfOpen.status(at: t0).phase == .halfOpen)
        #expect(halfOpen.status(at: t0).level == 2)
        #expect(halfOpen.acquire(at: t0).permit?.isProbe == true)

        var isolated = CircuitBreaker(policy: .default, restoring: BreakerSnapshot(phase: .isolated), now: t0)
        #expect(isolated.acquire(at: t0.adding(millis: 86_400_000)) == .rejected(phase: .isolated, until: nil))

        var misconfigured = CircuitBreaker(
            policy: .default,
            restoring: BreakerSnapshot(phase: .open, openUntilUnixMillis: t0.unixMillis + 10, misconfigured: true),
            now: t0)
        #expect(misconfigured.status(at: t0).misconfigured)
        #expect(misconfigured.acquire(at: t0.adding(millis: 10)).permit?.isProbe == true)
    }

    @Test("BreakerBoard.restore replaces breakers and makes earlier permits stale")
    func boardRestore() {
        let board = BreakerBoard(policies: [:], defaultPolicy: .default)
        let permit = board.acquire("gpt-4o", at: t0).permit
        board.restore(["gpt-4o": BreakerSnapshot(phase: .closed, consecutiveFailures: 2)], now: t0)
        if let permit {
            #expect(!board.record("gpt-4o", .failure(.serverError, latencyMs: 1), permit: permit, at: t0))
        }
        #expect(board.status("gpt-4o", at: t0).consecutiveFailures == 2)
        #expect(board.recordExternal("gpt-4o", .failure(.serverError, latencyMs: 1), at: t0))
        #expect(board.status("gpt-4o", at: t0).phase == .open)
        #expect(board.snapshots()["gpt-4o"]?.phase == .open)
    }
}
