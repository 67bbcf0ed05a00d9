import Testing

@testable import FallbackCore

@Suite("Fleet: only the probe lease holder probes a model that is out")
struct FleetLeaseTests {
    let t0 = BreakerFixture.t0

    @Test("without a reachable fleet every sidecar probes on its own")
    func inactiveAllowsAll() {
        let leases = ProbeLeases()
        #expect(leases.mayProbe("gpt-4o", at: t0))
        leases.setActive(true)
        #expect(!leases.mayProbe("gpt-4o", at: t0))
        leases.granted("gpt-4o", until: t0.adding(millis: 2_500))
        #expect(leases.mayProbe("gpt-4o", at: t0.adding(millis: 2_499)))
        #expect(!leases.mayProbe("gpt-4o", at: t0.adding(millis: 2_500)))
        leases.setActive(false)
        #expect(leases.held(at: t0).isEmpty)
        #expect(leases.mayProbe("gpt-4o", at: t0))
    }

    @Test("leases are wanted for open and half-open breakers, not misconfigured or isolated ones")
    func wantedModels() {
        let statuses: [String: BreakerStatus] = [
            "a": BreakerStatus(phase: .open), "b": BreakerStatus(phase: .halfOpen), "c": BreakerStatus(phase: .closed),
            "d": BreakerStatus(phase: .isolated), "e": BreakerStatus(phase: .open, misconfigured: true),
        ]
        #expect(ProbeLeases.wanted(statuses) == ["a", "b"])
    }

    @Test("a half-open model without the lease is skipped as probe_busy; with it, it carries the probe")
    func planHonoursLease() {
        let clock = ManualClock()
        let leases = ProbeLeases()
        leases.setActive(true)
        let breakers = BreakerBoard(defaultPolicy: BreakerPolicy(consecutiveFailures: 1, openMs: 1_000))
        let resilience = Resilience(breakers: breakers, health: HealthBoard(), probeLeases: leases)
        let now = clock.now()
        breakers.applyPeer(
            FleetEvent(kind: .open, host: "b", model: Seed.gpt4o.name, atUnixMillis: now.unixMillis, untilUnixMillis: now.unixMillis + 1_000),
            at: now)
        let later = now.adding(millis: 1_000)
        var plan = resilience.plan(chain: "default", models: [Seed.gpt4o, Seed.sonnet], at: later)
        #expect(plan.steps.map(\.reason) == [.healthy, .probeBusy])
        #expect(resilience.recoveryProbesDue(plan, at: later).isEmpty)
        leases.granted(Seed.gpt4o.name, until: later.adding(millis: 2_000))
        plan = resilience.plan(chain: "default", models: [Seed.gpt4o, Seed.sonnet], at: later)
        #expect(plan.steps.map(\.reason) == [.halfOpenProbe, .healthy])
    }

    @Test("recovery probes of an open model go only from the lease holder")
    func recoveryProbesHonourLease() {
        let clock = ManualClock()
        let leases = ProbeLeases()
        leases.setActive(true)
        let breakers = BreakerBoard()
        let resilience = Resilience(breakers: breakers, health: HealthBoard(), probeLeases: leases)
        let now = clock.now()
        breakers.applyPeer(
            FleetEvent(kind: .open, host: "b", model: Seed.gpt4o.name, atUnixMillis: now.unixMillis, untilUnixMillis: now.unixMillis + 60_000),
            at: now)
        let plan = resilience.plan(chain: "default", models: [Seed.gpt4o, Seed.sonnet], at: now)
        #expect(resilience.recoveryProbesDue(plan, at: now).isEmpty)
        leases.granted(Seed.gpt4o.name, until: now.adding(millis: 2_000))
        #expect(resilience.recoveryProbesDue(plan, at: now).map(\.name) == [Seed.gpt4o.name])
    }
}
