import Testing

@testable import FallbackCore

@Suite("Router: deadlines and cancellation")
struct RouterDeadlineTests {
    static let everyModelSlow: [String: [Step]] = Dictionary(
        uniqueKeysWithValues: Seed.models.map { ($0.name, [Step.fail(.timeout, after: 400)]) })

    @Test("400 ms per call, timeout 1000: three attempts, then deadlineExceeded")
    func deadlineStopsTheWalk() async throws {
        let h = try Harness(Self.everyModelSlow)
        let start = h.clock.now()
        let failure = try #require(
            await h.router.execute(CompletionRequest(requestID: "r-d", messages: messages(), timeoutMs: 1_000)).failure)
        #expect(failure.kind == .deadlineExceeded)
        #expect(failure.attempts.count == 3)
        #expect(failure.attempts.map(\.model) == ["gpt-4o", "claude-3-5-sonnet", "gpt-4o-mini"])
        #expect(failure.latencyMs == 1_200)
        #expect(failure.chain == "default")
        #expect(h.invoker.calledModels.count == 3)
        #expect(h.recorder.all.count == 3)
        let deadline = start.adding(millis: 1_000)
        for call in h.invoker.calls {
            #expect(call.startedAt < deadline, "an attempt started at or after the deadline")
        }
    }

    @Test("no attempt starts exactly at the deadline")
    func noAttemptAtTheDeadline() async throws {
        // 500 + 500 lands exactly on the 1000 ms deadline: the third model must not be called.
        let script = Dictionary(uniqueKeysWithValues: Seed.models.map { ($0.name, [Step.fail(.serverError, after: 500)]) })
        let h = try Harness(script)
        let failure = try #require(
            await h.router.execute(CompletionRequest(requestID: "r", messages: messages(), timeoutMs: 1_000)).failure)
        #expect(h.invoker.calledModels == ["gpt-4o", "claude-3-5-sonnet"])
        #expect(failure.kind == .deadlineExceeded)
        #expect(failure.latencyMs == 1_000)
    }

    @Test("a model that serves after the deadline still serves")
    func lateSuccessCounts() async throws {
        let h = try Harness(["gpt-4o": [.ok("late", after: 1_500)]])
        let result = try #require(
            await h.router.execute(CompletionRequest(requestID: "r", messages: messages(), timeoutMs: 1_000)).success)
        #expect(result.content == "late")
        #expect(result.latencyMs == 1_500)
    }

    @Test("all fail well within the deadline: allModelsFailed, not deadlineExceeded")
    func allFailBeforeDeadline() async throws {
        let script = Dictionary(uniqueKeysWithValues: Seed.models.map { ($0.name, [Step.fail(.serverError, after: 10)]) })
        let h = try Harness(script)
        let failure = try #require(
            await h.router.execute(CompletionRequest(requestID: "r", messages: messages(), timeoutMs: 1_000)).failure)
        #expect(failure.kind == .allModelsFailed)
        #expect(failure.latencyMs == 40)
    }

    @Test("per-attempt deadline is min(model timeout, remaining time minus the reserve for the models still to try)")
    func perAttemptDeadline() async throws {
        var quick = Seed.gpt4o
        quick.timeoutMs = 300
        var roomy = Seed.sonnet
        roomy.timeoutMs = 800
        let h = try Harness(
            models: [quick, roomy, Seed.gpt4oMini, Seed.haiku],
            [
                "gpt-4o": [.fail(.timeout, after: 300)],
                "claude-3-5-sonnet": [.fail(.timeout, after: 500)],
                "gpt-4o-mini": [.ok(after: 10)],
            ])
        let start = h.clock.now()
        _ = await h.router.execute(CompletionRequest(requestID: "r", messages: messages(), timeoutMs: 1_000))
        let deadlines = h.invoker.calls.map { $0.request.deadline.millis(since: start) }
        // Each model still to try reserves 5 s of the remaining time, at most half of it in all:
        // gpt-4o at 0: min(300, 1000 - min(3 x 5000, 500)) = 300; sonnet at 300: min(1100, 1000 - min(2 x 5000, 350)) = 650;
        // mini (no own timeout) at 800 with haiku left: 1000 - min(5000, 100) = 900.
        #expect(deadlines == [300, 650, 900])
        #expect(h.invoker.calls.map { $0.startedAt.millis(since: start) } == [0, 300, 800])
        // The model's own timeout wins when it is the smaller one.
        #expect(h.invoker.calls[0].request.deadline == start.adding(millis: 300))
    }

    @Test("a silent model cannot eat the whole deadline: it leaves room for the models still to try")
    func noModelTimeoutLeavesRoom() async throws {
        let h = try Harness(["gpt-4o": [.fail(.timeout, after: 2_500)], "claude-3-5-sonnet": [.ok()]])
        let start = h.clock.now()
        let result = await h.router.execute(CompletionRequest(requestID: "r", messages: messages(), timeoutMs: 5_000))
        // gpt-4o (three models after it): 5000 - min(15000, 2500); sonnet at 2500 (two after it): 5000 - min(10000, 1250).
        #expect(h.invoker.calls.map(\.request.deadline) == [start.adding(millis: 2_500), start.adding(millis: 3_750)])
        #expect(result.success?.model.name == "claude-3-5-sonnet", "the backup answered inside the deadline")
    }

    @Test("the last model of the chain gets the whole remaining time")
    func lastModelGetsEverything() async throws {
        let h = try Harness(models: [Seed.gpt4o], chains: ["default": ["gpt-4o"]], ["gpt-4o": [.ok()]])
        let start = h.clock.now()
        _ = await h.router.execute(CompletionRequest(requestID: "r", messages: messages(), timeoutMs: 5_000))
        #expect(h.invoker.calls.map(\.request.deadline) == [start.adding(millis: 5_000)])
    }

    @Test("latency comes from the clock: per attempt and overall")
    func latencyFromClock() async throws {
        let h = try Harness([
            "gpt-4o": [.fail(.serverError, after: 123)], "claude-3-5-sonnet": [.fail(.overloaded, after: 0)],
            "gpt-4o-mini": [.ok(after: 4_567)],
        ])
        let result = try #require(await h.router.execute(CompletionRequest(requestID: "r", messages: messages())).success)
        #expect(result.attempts.map(\.latencyMs) == [123, 0, 4_567])
        #expect(result.latencyMs == 4_690)
        #expect(h.recorder.all.map(\.latencyMs) == [123, 0, 4_567])
    }

    @Test("a task cancelled before it runs: .cancelled, no model called, no row")
    func cancelledBeforeStart() async throws {
        let h = try Harness(["gpt-4o": [.ok()]])
        let router = h.router
        let outcome = await withTaskGroup(of: Result<CompletionResult, RouteFailure>.self) { group in
            group.cancelAll()  // tasks added from now on start cancelled
            group.addTask { await router.execute(CompletionRequest(requestID: "r-c", messages: messages())) }
            return await group.next()!
        }
        let failure = try #require(outcome.failure)
        #expect(failure.kind == .cancelled)
        #expect(failure.requestID == "r-c")
        #expect(failure.attempts.isEmpty)
        #expect(h.invoker.calls.isEmpty)
        #expect(h.recorder.all.isEmpty)
    }

    @Test("cancelled during an attempt: that attempt is recorded, the walk stops with .cancelled")
    func cancelledMidWalk() async throws {
        let h = try Harness(
            ["gpt-4o": [.fail(.cancelled)], "claude-3-5-sonnet": [.ok()]],
            onCall: { _ in withUnsafeCurrentTask { $0?.cancel() } })
        let router = h.router
        let failure = try #require(
            await Task { await router.execute(CompletionRequest(requestID: "r", messages: messages())) }.value.failure)
        #expect(failure.kind == .cancelled)
        #expect(h.invoker.calledModels == ["gpt-4o"])
        #expect(failure.attempts.map(\.errorType) == [.cancelled])
        #expect(h.recorder.all.map(\.errorType) == [.cancelled])
    }

    /// BUG: when the cancellation lands during the chain's last attempt, the loop ends without checking
    /// `Task.isCancelled` and the request is reported as allModelsFailed (-32001) instead of cancelled.
    @Test("cancelled during the last attempt of the chain: still .cancelled")
    func cancelledDuringLastAttempt() async throws {
        let h = try Harness(
            models: Seed.models, chains: ["default": ["gpt-4o"]], ["gpt-4o": [.fail(.cancelled)]],
            onCall: { _ in withUnsafeCurrentTask { $0?.cancel() } })
        let router = h.router
        let failure = try #require(
            await Task { await router.execute(CompletionRequest(requestID: "r", messages: messages())) }.value.failure)
        #expect(failure.kind == .cancelled)
        #expect(failure.attempts.count == 1)
    }
}
