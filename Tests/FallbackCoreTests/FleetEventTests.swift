import Testing

@testable import FallbackCore

@Suite("Fleet: events, catch-up and the fleet's health view")
struct FleetEventTests {
    let t0 = BreakerFixture.t0

    @Test("an event survives its NOTIFY payload; foreign payloads are refused")
    func payloadRoundTrip() {
        let event = FleetEvent(
            kind: .open, host: "host-a", model: "gpt-4o", atUnixMillis: 1_767_225_600_000, untilUnixMillis: 1_767_225_630_000,
            level: 2, reason: "3 consecutive failures")
        #expect(FleetEvent(payload: event.payload) == event)
        #expect(event.payload.utf8.count < 300)
        let closed = FleetEvent(kind: .closed, host: "h", model: "m", atUnixMillis: 5)
        #expect(FleetEvent(payload: closed.payload) == closed)
        for foreign in ["", "hello", "{}", #"{"k":"exploded","h":"a","m":"b","t":1}"#, #"{"k":"open","h":"","m":"b","t":1}"#] {
            #expect(FleetEvent(payload: foreign) == nil)
        }
        let long = FleetEvent(kind: .open, host: "h", model: "m", atUnixMillis: 1, reason: String(repeating: "x", count: 5_000))
        #expect(long.payload.utf8.count < 400)
    }

    @Test("a misconfiguration is announced as such; a local open as open")
    func transitionKinds() {
        let open = BreakerTransition(model: "m", from: .closed, to: .open, openUntil: t0.adding(millis: 1_000), level: 1)
        #expect(FleetEvent(open, host: "a", at: t0)?.kind == .open)
        #expect(FleetEvent(open, host: "a", at: t0)?.untilUnixMillis == t0.unixMillis + 1_000)
        let auth = BreakerTransition(model: "m", from: .closed, to: .open, openUntil: t0, misconfigured: true)
        #expect(FleetEvent(auth, host: "a", at: t0)?.kind == .misconfigured)
    }

    @Test("catch-up: peers' own opens open here, a peer's close closes what it opened here")
    func catchUp() {
        let rows = [
            FleetBreakerRow(host: "b", model: "m1", phase: "open", untilUnixMillis: t0.unixMillis + 9_000, updatedUnixMillis: t0.unixMillis),
            FleetBreakerRow(host: "c", model: "m1", phase: "open", untilUnixMillis: t0.unixMillis + 9_000, openedBy: "b", updatedUnixMillis: t0.unixMillis),
            FleetBreakerRow(host: "b", model: "m2", phase: "closed", updatedUnixMillis: t0.unixMillis),
            FleetBreakerRow(host: "c", model: "m3", phase: "closed", updatedUnixMillis: t0.unixMillis),
            FleetBreakerRow(host: "b", model: "m4", phase: "open", untilUnixMillis: t0.unixMillis + 9_000, misconfigured: true, updatedUnixMillis: t0.unixMillis),
            FleetBreakerRow(host: "a", model: "m5", phase: "open", untilUnixMillis: t0.unixMillis + 9_000, updatedUnixMillis: t0.unixMillis),
        ]
        let local = ["m2": BreakerStatus(phase: .open, openedByPeer: "b"), "m3": BreakerStatus(phase: .open)]
        let events = FleetCatchUp.events(rows: rows, local: local, host: "a")
        #expect(events.map { "\($0.kind.rawValue):\($0.host):\($0.model)" } == ["open:b:m1", "closed:b:m2"])
    }

    @Test("the fleet's health adds every sidecar's buckets in the window")
    func healthMerge() {
        let policy = HealthPolicy.default
        let start = policy.bucketStart(t0.unixMillis)
        let local = [HealthBucket(startUnixMillis: start, calls: 10, successes: 10, latencySumMs: 1_000)]
        let peerB = [HealthBucket(startUnixMillis: start, calls: 10, successes: 0, latencySumMs: 3_000)]
        let stale = [HealthBucket(startUnixMillis: start - Int64(policy.spanMinutes) * 120_000, calls: 50, successes: 0)]
        let (stats, hosts) = FleetView.merge(local: local, peers: [peerB, stale], policy: policy, windowMinutes: 15, at: t0)
        #expect(stats.calls == 20)
        #expect(stats.successes == 10)
        #expect(stats.avgLatencyMs == 200)
        #expect(stats.degraded)
        #expect(hosts == 2)
    }

    @Test("compact health buckets round-trip; malformed entries are skipped")
    func compactBuckets() {
        let buckets = [
            HealthBucket(startUnixMillis: 10_000, calls: 3, successes: 2, latencySumMs: 90),
            HealthBucket(startUnixMillis: 20_000, calls: 1, successes: 1, latencySumMs: 7),
        ]
        let parsed = HealthBucket.parseCompact(HealthBucket.compact(buckets))
        #expect(parsed.map(\.calls) == [3, 1])
        #expect(parsed.map(\.successes) == [2, 1])
        #expect(parsed.map(\.latencySumMs) == [90, 7])
        #expect(HealthBucket.parseCompact("x;1:2;3:-1:0:0;4:2:9:-5").map(\.successes) == [2])
    }
}
