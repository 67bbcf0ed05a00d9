import Synchronization
import Testing

@testable import FallbackCore

/// A model per name that answers only when the test says so (or when its call is cancelled).
final class LatchedInvoker: ModelInvoker {
    private let state = Mutex<(called: [String], waiting: [String: CheckedContinuation<Result<ProviderResponse, ProviderFailure>, Never>])>(([], [:]))
    let calledSignal = AsyncStream.makeStream(of: String.self)

    func invoke(_ request: ProviderRequest) async -> Result<ProviderResponse, ProviderFailure> {
        let name = request.model.name
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let cancelled = state.withLock { state -> Bool in
                    state.called.append(name)
                    if Task.isCancelled { return true }
                    state.waiting[name] = continuation
                    return false
                }
                calledSignal.continuation.yield(name)
                if cancelled { continuation.resume(returning: .failure(ProviderFailure(.cancelled, message: "cancelled"))) }
            }
        } onCancel: {
            state.withLock { $0.waiting.removeValue(forKey: name) }?.resume(returning: .failure(ProviderFailure(.cancelled, message: "cancelled")))
        }
    }

    func answer(_ name: String, _ outcome: Result<ProviderResponse, ProviderFailure>) {
        state.withLock { $0.waiting.removeValue(forKey: name) }?.resume(returning: outcome)
    }

    var called: [String] { state.withLock { $0.called } }

    /// Waits until `name` has been called.
    func waitForCall(_ name: String) async {
        if called.contains(name) { return }
        for await called in calledSignal.stream where called == name { return }
    }
}

/// Real time for `now`, but sleepers wake only when the test fires them (or are cancelled).
final class FiredClock: FallbackClock {
    private let base = ManualClock()
    private let sleepers = Mutex<[Int: CheckedContinuation<Void, any Error>]>([:])
    private let counter = Mutex(0)

    func now() -> Moment { base.now() }

    func sleep(until deadline: Moment) async throws {
        let id = counter.withLock { value -> Int in
            value += 1
            return value
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let cancelled = sleepers.withLock { sleepers -> Bool in
                    if Task.isCancelled { return true }
                    sleepers[id] = continuation
                    return false
                }
                if cancelled { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            sleepers.withLock { $0.removeValue(forKey: id) }?.resume(throwing: CancellationError())
        }
    }

    var sleeping: Int { sleepers.withLock { $0.count } }

    /// Wakes every sleeper, as if its time had come.
    func fire() {
        let waiting = sleepers.withLock { sleepers in
            defer { sleepers = [:] }
            return Array(sleepers.values)
        }
        for sleeper in waiting { sleeper.resume() }
    }
}

@Suite("Router: hedging")
struct RouterHedgeTests {
    func router(_ invoker: LatchedInvoker, _ clock: FiredClock, budget: HedgeBudget = HedgeBudget()) throws -> (Router, CollectingRecorder) {
        let recorder = CollectingRecorder()
        let router = Router(
            pool: try Seed.pool(), invoker: invoker, recorder: recorder, clock: clock,
            policy: RoutingPolicy(hedges: ["default": .afterMs(300)]), hedgeBudget: budget)
        return (router, recorder)
    }

    func waitForSleeper(_ clock: FiredClock) async {
        for _ in 0..<10_000 where clock.sleeping == 0 { await Task.yield() }
    }

    @Test("a first attempt that has produced nothing by the hedge delay gets the next model beside it; the first answer wins")
    func hedgeWins() async throws {
        let invoker = LatchedInvoker()
        let clock = FiredClock()
        let (router, recorder) = try router(invoker, clock)
        let running = Task { await router.execute(CompletionRequest(requestID: "r", messages: messages())) }
        await invoker.waitForCall("gpt-4o")
        await waitForSleeper(clock)
        clock.fire()
        await invoker.waitForCall("claude-3-5-sonnet")
        invoker.answer("claude-3-5-sonnet", .success(ProviderResponse(content: "hedge", usage: .zero)))
        let result = try #require(await running.value.success)
        #expect(result.content == "hedge")
        #expect(result.model.name == "claude-3-5-sonnet")
        let hedged = result.attempts.first { $0.model == "claude-3-5-sonnet" }
        #expect(hedged?.hedged == true)
        // The slower one was cut off, and is recorded (for its breaker too) as a timeout: it did not answer in time.
        let outrun = result.attempts.first { $0.model == "gpt-4o" }
        #expect(outrun?.errorType == .timeout)
        #expect(outrun?.message?.contains("a hedge started at") == true)
        #expect(recorder.all.map(\.hedged).sorted { !$0 && $1 } == [false, true])
        #expect(recorder.all.first { $0.model == "gpt-4o" }?.errorType == .timeout)
    }

    @Test("a first attempt that answers before the hedge delay needs no hedge")
    func noHedgeWhenFast() async throws {
        let invoker = LatchedInvoker()
        let clock = FiredClock()
        let (router, _) = try router(invoker, clock)
        let running = Task { await router.execute(CompletionRequest(requestID: "r", messages: messages())) }
        await invoker.waitForCall("gpt-4o")
        invoker.answer("gpt-4o", .success(ProviderResponse(content: "first", usage: .zero)))
        let result = try #require(await running.value.success)
        #expect(result.content == "first")
        #expect(invoker.called == ["gpt-4o"])
        #expect(result.attempts.count == 1)
    }

    @Test("without hedge budget the first attempt runs alone")
    func budgetSpent() async throws {
        let invoker = LatchedInvoker()
        let clock = FiredClock()
        let budget = HedgeBudget(ratio: 0, maxTokens: 1)
        _ = budget.take()
        let (router, _) = try router(invoker, clock, budget: budget)
        let running = Task { await router.execute(CompletionRequest(requestID: "r", messages: messages())) }
        await invoker.waitForCall("gpt-4o")
        await waitForSleeper(clock)
        clock.fire()
        // The hedge timer fired but found no budget: only the first model is called; it answers.
        for _ in 0..<1_000 { await Task.yield() }
        #expect(invoker.called == ["gpt-4o"])
        invoker.answer("gpt-4o", .success(ProviderResponse(content: "alone", usage: .zero)))
        #expect(try #require(await running.value.success).content == "alone")
    }
}
