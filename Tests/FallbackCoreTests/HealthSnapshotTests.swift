import Testing

@testable import FallbackCore

@Suite("Health: snapshot and restore")
struct HealthSnapshotTests {
    let minute: Int64 = 60_000

    func at(_ millis: Int64) -> Moment { healthBase.adding(millis: millis) }

    /// A window with 40 minutes of mixed traffic ending at `at(40 min)`.
    func busyWindow() -> HealthWindow {
        var window = HealthWindow(policy: .default)
        for index in Int64(0)..<400 {
            let outcome: CallOutcome =
                index % 7 == 0 ? .failure(.serverError, latencyMs: 2_000 + index) : .success(latencyMs: 100 + index * 3)
            window.record(outcome, at: at(index * 6_000))
        }
        return window
    }

    @Test("round trip across a restart: same stats with a different monotonic reading")
    func roundTrip() {
        let window = busyWindow()
        let before = at(40 * minute)
        let buckets = window.snapshot()
        #expect(!buckets.isEmpty)
        #expect(buckets.map(\.startUnixMillis) == buckets.map(\.startUnixMillis).sorted())
        #expect(buckets.allSatisfy { $0.calls > 0 })
        // The new process: monotonic nanos restart near zero, the wall clock carries on.
        let after = Moment(nanos: 42, unixMillis: before.unixMillis)
        var restored = HealthWindow(policy: .default)
        restored.restore(buckets, at: after)
        for minutes in [1, 5, 15, 60] {
            #expect(restored.stats(windowMinutes: minutes, at: after) == window.stats(windowMinutes: minutes, at: before))
        }
        #expect(restored.snapshot() == buckets)
        #expect(window.stats(windowMinutes: 60, at: before).calls == 400)
    }

    @Test("restore drops buckets older than the span, exactly at the boundary")
    func dropsOld() {
        var window = HealthWindow(policy: .default)
        window.record(.failure(.timeout, latencyMs: 1), at: at(0))
        window.record(.success(latencyMs: 1), at: at(10_000))
        window.record(.success(latencyMs: 1), at: at(30 * minute))
        let buckets = window.snapshot()
        #expect(buckets.count == 3)
        // 60 minutes after base the current bucket is number 360: bucket 0 has left the span,
        // bucket 1 (10 s) is the oldest kept.
        let now = at(60 * minute)
        var restored = HealthWindow(policy: .default)
        restored.restore(buckets, at: now)
        #expect(restored.snapshot().map(\.startUnixMillis) == [at(10_000).unixMillis, at(30 * minute).unixMillis])
        let stats = restored.stats(windowMinutes: 60, at: now)
        #expect((stats.calls, stats.successes) == (2, 2))
        // Hours later nothing is left.
        var late = HealthWindow(policy: .default)
        late.restore(buckets, at: at(5 * 60 * minute))
        #expect(late.snapshot().isEmpty)
        // Buckets from the future (the wall clock went back) are dropped too.
        var early = HealthWindow(policy: .default)
        early.restore(buckets, at: at(5_000))
        #expect(early.snapshot().map(\.startUnixMillis) == [at(0).unixMillis])
    }

    @Test("restore replaces what the window held")
    func replaces() {
        var window = HealthWindow(policy: .default)
        window.record(.failure(.timeout, latencyMs: 1), at: at(0))
        let bucket = HealthBucket(startUnixMillis: at(20_000).unixMillis, calls: 2, successes: 2, latencySumMs: 30)
        window.restore([bucket], at: at(30_000))
        let stats = window.stats(windowMinutes: 60, at: at(30_000))
        #expect((stats.calls, stats.successes, stats.avgLatencyMs) == (2, 2, 15))
    }

    @Test("snapshot leaves out stale slots the ring has not reused yet")
    func snapshotSkipsStale() {
        var window = HealthWindow(policy: .default)
        window.record(.success(latencyMs: 1), at: at(0))
        window.record(.success(latencyMs: 1), at: at(90 * minute))  // a different slot
        #expect(window.snapshot().map(\.startUnixMillis) == [at(90 * minute).unixMillis])
    }

    @Test("restore re-aligns buckets to the policy's width and clamps inconsistent counts")
    func realigns() {
        let base = healthBase.unixMillis
        let persisted = [
            HealthBucket(startUnixMillis: base + 3_000, calls: 2, successes: 1, latencySumMs: 20),
            HealthBucket(startUnixMillis: base + 40_000, calls: 3, successes: 9, latencySumMs: -5),
            HealthBucket(startUnixMillis: base + 50_000, calls: 0, successes: 0, latencySumMs: 0),
        ]
        var window = HealthWindow(policy: HealthPolicy(bucketSeconds: 60))
        window.restore(persisted, at: at(90_000))
        let buckets = window.snapshot()
        #expect(buckets.count == 1)
        #expect(buckets.first?.startUnixMillis == base)
        #expect(buckets.first?.calls == 5)
        #expect(buckets.first?.successes == 4)
        #expect(buckets.first?.latencySumMs == 20)
    }

    @Test("HealthBoard snapshots and restores per model, leaving other models alone")
    func board() {
        let board = HealthBoard(policy: .default)
        for index in Int64(0)..<30 {
            board.record("gpt-4o", index % 3 == 0 ? .failure(.timeout, latencyMs: 900) : .success(latencyMs: 300), at: at(index * 10_000))
            board.record("claude-3-haiku", .success(latencyMs: 120), at: at(index * 10_000))
        }
        let now = at(5 * minute)
        let snapshots = board.snapshots()
        #expect(Set(snapshots.keys) == ["gpt-4o", "claude-3-haiku"])

        let restarted = HealthBoard(policy: .default)
        restarted.record("gpt-4o-mini", .success(latencyMs: 50), at: now)
        let later = Moment(nanos: 7, unixMillis: now.unixMillis)
        restarted.restore(snapshots, at: later)
        for model in ["gpt-4o", "claude-3-haiku"] {
            #expect(restarted.stats(model, windowMinutes: 15, at: later) == board.stats(model, windowMinutes: 15, at: now))
        }
        #expect(restarted.stats("gpt-4o-mini", windowMinutes: 15, at: later).calls == 1)
        #expect(restarted.isDegraded("gpt-4o", at: later) == board.isDegraded("gpt-4o", at: now))
    }
}
