import Testing

@testable import FallbackCore

/// 2026-01-01T00:00:00Z: a multiple of every bucket width used here.
let healthBase = Moment(nanos: 1_000_000_000, unixMillis: 1_767_225_600_000)

@Suite("Health: rolling window")
struct HealthWindowTests {
    let minute: Int64 = 60_000

    func at(_ millis: Int64) -> Moment { healthBase.adding(millis: millis) }

    @Test("default policy: 10 s buckets over 60 minutes, 360 buckets, degraded below 0.8 with 5 calls")
    func defaultPolicy() {
        let policy = HealthPolicy.default
        #expect(policy.bucketSeconds == 10)
        #expect(policy.spanMinutes == 60)
        #expect(policy.degradedBelow == 0.8)
        #expect(policy.minimumCalls == 5)
        #expect(policy.reorderWindowMinutes == 10)
        #expect(policy.bucketCount == 360)
        #expect(policy.bucketCount(forWindowMinutes: 1) == 6)
        #expect(policy.bucketCount(forWindowMinutes: 15) == 90)
        #expect(policy.bucketCount(forWindowMinutes: 600) == 360)
        #expect(policy.bucketCount(forWindowMinutes: 0) == 1)
        #expect(HealthPolicy(bucketSeconds: 7, spanMinutes: 1).bucketCount == 9)
        #expect(policy.bucketStart(-1) == -10_000)
        #expect(policy.bucketStart(19_999) == 10_000)
    }

    @Test("success rate and counts per 1, 5, 15 and 60 minute windows, calls spread across buckets")
    func windows() {
        var window = HealthWindow(policy: .default)
        // Now is 5 s into the bucket starting 2 h after base; `c(ms)` is relative to that bucket's start.
        let current: Int64 = 120 * minute
        func c(_ offset: Int64) -> Moment { at(current + offset) }
        let calls: [(Moment, CallOutcome, Int)] = [
            (c(-61 * minute), .success(latencyMs: 1), 1),  // outside the span
            (c(-3_590_000), .failure(.serverError, latencyMs: 100), 4),  // oldest bucket of 60 min
            (c(-900_000), .success(latencyMs: 100), 3),  // just outside 15 min
            (c(-890_000 + 9_999), .failure(.timeout, latencyMs: 100), 2),  // oldest bucket of 15 min
            (c(-300_000), .success(latencyMs: 100), 5),  // just outside 5 min
            (c(-290_000), .failure(.rateLimited, latencyMs: 100), 1),  // oldest bucket of 5 min
            (c(-60_000 + 9_999), .success(latencyMs: 100), 2),  // just outside 1 min
            (c(-50_000), .success(latencyMs: 100), 3),  // oldest bucket of 1 min
            (c(1_000), .failure(.overloaded, latencyMs: 100), 1),  // current bucket
            (c(4_999), .success(latencyMs: 100), 1),
        ]
        for (moment, outcome, count) in calls {
            for _ in 0..<count { window.record(outcome, at: moment) }
        }
        let now = c(5_000)
        let one = window.stats(windowMinutes: 1, at: now)
        #expect(one.windowMinutes == 1)
        #expect((one.calls, one.successes) == (5, 4))
        #expect(one.successRate == 0.8)
        let five = window.stats(windowMinutes: 5, at: now)
        #expect((five.calls, five.successes) == (8, 6))
        #expect(five.successRate == 0.75)
        let fifteen = window.stats(windowMinutes: 15, at: now)
        #expect((fifteen.calls, fifteen.successes) == (15, 11))
        let sixty = window.stats(windowMinutes: 60, at: now)
        #expect((sixty.calls, sixty.successes) == (22, 14))
        #expect(sixty.avgLatencyMs == 100)
        // Windows beyond the span are the span.
        #expect(window.stats(windowMinutes: 1_440, at: now).calls == 22)
    }

    @Test("a bucket falls out of each window exactly at the boundary", arguments: [1, 5, 15, 60])
    func boundary(minutes: Int) {
        var window = HealthWindow(policy: .default)
        let start = 30 * minute
        window.record(.success(latencyMs: 10), at: at(start))
        window.record(.failure(.timeout, latencyMs: 10), at: at(start + 9_999))  // same bucket
        let span = Int64(minutes) * minute
        #expect(window.stats(windowMinutes: minutes, at: at(start)).calls == 2)
        #expect(window.stats(windowMinutes: minutes, at: at(start + span - 1)).calls == 2)
        #expect(window.stats(windowMinutes: minutes, at: at(start + span)).calls == 0)
        #expect(window.stats(windowMinutes: minutes, at: at(start + span)).successRate == 1.0)
        // A moment before the bucket does not see it either.
        #expect(window.stats(windowMinutes: minutes, at: at(start - 1)).calls == 0)
    }

    @Test("the ring reuses slots without leaking old counts")
    func ringReuse() {
        var window = HealthWindow(policy: .default)
        window.record(.failure(.serverError, latencyMs: 900), at: at(0))
        window.record(.success(latencyMs: 100), at: at(61 * minute))
        let sixty = window.stats(windowMinutes: 60, at: at(61 * minute))
        #expect(sixty.calls == 1)
        #expect(sixty.successRate == 1.0)
        #expect(sixty.avgLatencyMs == 100)
        // Exactly one span later the same slot is reused: only the new call counts.
        var same = HealthWindow(policy: .default)
        same.record(.failure(.serverError, latencyMs: 900), at: at(5_000))
        same.record(.success(latencyMs: 100), at: at(60 * minute))
        #expect(same.stats(windowMinutes: 60, at: at(60 * minute)).calls == 1)
        #expect(same.snapshot().count == 1)
        // Half a span later both count.
        var both = HealthWindow(policy: .default)
        both.record(.failure(.serverError, latencyMs: 900), at: at(0))
        both.record(.success(latencyMs: 100), at: at(30 * minute))
        #expect(both.stats(windowMinutes: 60, at: at(30 * minute)).calls == 2)
        #expect(both.stats(windowMinutes: 60, at: at(30 * minute)).avgLatencyMs == 500)
    }

    @Test("degraded only with at least minimumCalls and a rate strictly below the threshold")
    func degraded() {
        var window = HealthWindow(policy: .default)
        let now = at(10 * minute)
        for _ in 0..<4 { window.record(.failure(.serverError, latencyMs: 5), at: now) }
        #expect(window.stats(windowMinutes: 10, at: now).successRate == 0)
        #expect(!window.stats(windowMinutes: 10, at: now).degraded)
        #expect(!window.isDegraded(windowMinutes: 10, at: now))
        window.record(.failure(.serverError, latencyMs: 5), at: now)
        #expect(window.stats(windowMinutes: 10, at: now).degraded)
        #expect(window.isDegraded(windowMinutes: 10, at: now))

        var edge = HealthWindow(policy: .default)
        for index in 0..<5 { edge.record(index == 0 ? .failure(.timeout, latencyMs: 5) : .success(latencyMs: 5), at: now) }
        #expect(edge.stats(windowMinutes: 10, at: now).successRate == 0.8)
        #expect(!edge.stats(windowMinutes: 10, at: now).degraded)  // 0.8 is not below 0.8
        edge.record(.failure(.timeout, latencyMs: 5), at: now)
        #expect(edge.stats(windowMinutes: 10, at: now).degraded)  // 4/6

        let strict = HealthPolicy(degradedBelow: 0.9, minimumCalls: 20)
        var custom = HealthWindow(policy: strict)
        for index in 0..<19 { custom.record(index < 17 ? .success(latencyMs: 5) : .failure(.connection, latencyMs: 5), at: now) }
        #expect(!custom.isDegraded(windowMinutes: 10, at: now))
        custom.record(.failure(.connection, latencyMs: 5), at: now)
        #expect(custom.isDegraded(windowMinutes: 10, at: now))  // 17/20 = 0.85 < 0.9
    }

    @Test("outcomes that do not reflect the model's health are not counted")
    func excluded() {
        var window = HealthWindow(policy: .default)
        let now = at(0)
        for type in ErrorType.allCases where !type.reflectsModelHealth {
            window.record(.failure(type, latencyMs: 10_000), at: now)
        }
        #expect(window.stats(windowMinutes: 60, at: now).calls == 0)
        #expect(window.snapshot().isEmpty)
        window.record(.failure(.auth, latencyMs: 10), at: now)
        window.record(.failure(.badResponse, latencyMs: 10), at: now)
        let stats = window.stats(windowMinutes: 60, at: now)
        #expect((stats.calls, stats.successes) == (2, 0))
        #expect(stats.avgLatencyMs == 10)
    }

    @Test("window percentiles and exact average over latencies spread across buckets")
    func latencyStats() {
        var window = HealthWindow(policy: .default)
        for ms in Int64(1)...1_000 {
            window.record(.success(latencyMs: ms), at: at(ms * 1_000))  // 1000 s: 100 buckets
        }
        let stats = window.stats(windowMinutes: 60, at: at(1_000_000))
        #expect(stats.calls == 1_000)
        #expect(stats.avgLatencyMs == 500.5)
        let error = LatencyHistogram.maxRelativeError
        #expect(abs(Double(stats.p50LatencyMs) - 500) <= error * 500)
        #expect(abs(Double(stats.p95LatencyMs) - 950) <= error * 950)
        #expect(abs(Double(stats.p99LatencyMs) - 990) <= error * 990)
        let empty = HealthWindow(policy: .default).stats(windowMinutes: 5, at: at(0))
        #expect(empty == HealthStats(
            windowMinutes: 5, calls: 0, successes: 0, successRate: 1, avgLatencyMs: 0, p50LatencyMs: 0,
            p95LatencyMs: 0, p99LatencyMs: 0, degraded: false))
    }

    @Test("memory is constant: the bucket count is fixed however many calls are recorded")
    func constantMemory() {
        var window = HealthWindow(policy: .default)
        #expect(window.bucketCount == 360)
        for index in Int64(0)..<50_000 {
            window.record(.success(latencyMs: index % 5_000), at: at(index * 331))  // ~4.6 hours
        }
        #expect(window.bucketCount == 360)
        #expect(window.snapshot().count <= 360)
        #expect(window.snapshot().allSatisfy { $0.histogram.bins.count == LatencyHistogram.binCount })
        #expect(HealthWindow(policy: HealthPolicy(bucketSeconds: 60, spanMinutes: 15)).bucketCount == 15)
    }
}
