import Synchronization
import Testing

@testable import FallbackCore

@Suite("BreakerBoard: per-model breakers behind one lock")
struct BreakerBoardTests {
    let t0 = BreakerFixture.t0

    @Test("breakers are created lazily, each with its model's policy or the default")
    func lazyPerModelPolicies() {
        let board = BreakerBoard(policies: ["flaky": BreakerPolicy(consecutiveFailures: 1)], defaultPolicy: .default)
        #expect(board.snapshots().isEmpty)
        for model in ["flaky", "steady"] {
            if let permit = board.acquire(model, at: t0).permit {
                board.record(model, .failure(.serverError, latencyMs: 1), permit: permit, at: t0)
            }
        }
        #expect(board.status("flaky", at: t0).phase == .open)
        #expect(board.status("steady", at: t0).phase == .closed)
        #expect(board.status("steady", at: t0).consecutiveFailures == 1)
        #expect(board.policy(for: "flaky").consecutiveFailures == 1)
        #expect(board.policy(for: "other").consecutiveFailures == 3)
        #expect(Set(board.statuses(at: t0).keys) == ["flaky", "steady"])
    }

    @Test("statuses include models with their own policy before first use")
    func statusesIncludeConfigured() {
        let board = BreakerBoard(policies: ["a": .default, "b": .default], defaultPolicy: .default)
        board.isolate("c", at: t0)
        let all = board.statuses(at: t0)
        #expect(Set(all.keys) == ["a", "b", "c"])
        #expect(all["c"]?.phase == .isolated)
        board.reset("c", at: t0)
        #expect(board.status("c", at: t0).phase == .closed)
    }

    @Test("100 tasks x 50 operations lose no update")
    func concurrentCountsExact() async {
        let policy = BreakerPolicy(consecutiveFailures: 0, failureRateThreshold: nil, windowSize: 20, minimumCalls: 10)
        let board = BreakerBoard(policies: [:], defaultPolicy: policy)
        let start = t0
        let counted = await withTaskGroup(of: Int.self) { group in
            for task in 0..<100 {
                group.addTask {
                    let model = "m\(task % 4)"
                    var counted = 0
                    for op in 0..<50 {
                        let outcome = CallOutcome.failure(.serverError, latencyMs: Int64(op))
                        if op.isMultiple(of: 2), let permit = board.acquire(model, at: start).permit {
                            if board.record(model, outcome, permit: permit, at: start) { counted += 1 }
                        } else if board.recordExternal(model, outcome, at: start) {
                            counted += 1
                        }
                    }
                    return counted
                }
            }
            return await group.reduce(0, +)
        }
        #expect(counted == 5_000)
        for index in 0..<4 {
            let status = board.status("m\(index)", at: start)
            #expect(status.phase == .closed)
            #expect(status.consecutiveFailures == 1_250)
            #expect(status.callsInWindow == 20)
            #expect(status.failureRate == 1)
            #expect(status.trips == 0)
        }
    }

    @Test("a concurrent half-open race hands out exactly halfOpenProbes probes", arguments: [1, 2])
    func halfOpenRace(probes: Int) async {
        let board = BreakerBoard(policies: [:], defaultPolicy: BreakerPolicy(halfOpenProbes: probes))
        for _ in 0..<3 { board.recordExternal("gpt-4o", .failure(.timeout, latencyMs: 1), at: t0) }
        let reopen = t0.adding(millis: 300_000)
        let permits = await withTaskGroup(of: BreakerPermit?.self) { group in
            for _ in 0..<100 {
                group.addTask { board.acquire("gpt-4o", at: reopen).permit }
            }
            return await group.reduce(into: [BreakerPermit]()) { all, permit in
                if let permit { all.append(permit) }
            }
        }
        #expect(permits.count == probes)
        #expect(permits.allSatisfy { $0.isProbe })
        #expect(board.status("gpt-4o", at: reopen).probesInFlight == probes)
        if let first = permits.first {
            #expect(board.record("gpt-4o", .success(latencyMs: 5), permit: first, at: reopen))
        }
        #expect(board.status("gpt-4o", at: reopen).phase == .closed)
    }

    @Test("excluded probes release their slot: never more than one out, none left over")
    func excludedProbesUnderContention() async {
        let board = BreakerBoard(policies: [:], defaultPolicy: .default)
        for _ in 0..<3 { board.recordExternal("m", .failure(.overloaded, latencyMs: 1), at: t0) }
        let reopen = t0.adding(millis: 300_000)
        let held = BreakerProbeGauge()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<100 {
                group.addTask {
                    for _ in 0..<50 {
                        guard let permit = board.acquire("m", at: reopen).permit else { continue }
                        held.enter()
                        await Task.yield()
                        held.leave()
                        board.record("m", .failure(.cancelled, latencyMs: 1), permit: permit, at: reopen)
                    }
                }
            }
        }
        let status = board.status("m", at: reopen)
        #expect(status.phase == .halfOpen)
        #expect(status.probesInFlight == 0)
        #expect(held.peak == 1)
        #expect(held.entries >= 1)
    }
}

/// Counts permits held at once across tasks.
final class BreakerProbeGauge: Sendable {
    private let current = Atomic<Int>(0)
    private let highest = Atomic<Int>(0)
    private let total = Atomic<Int>(0)

    func enter() {
        let now = current.add(1, ordering: .sequentiallyConsistent).newValue
        highest.max(now, ordering: .sequentiallyConsistent)
        total.add(1, ordering: .relaxed)
    }

    func leave() { current.subtract(1, ordering: .sequentiallyConsistent) }

    var peak: Int { highest.load(ordering: .sequentiallyConsistent) }
    var entries: Int { total.load(ordering: .relaxed) }
}
