import Testing

@testable import FallbackCore

@Suite("Router: the streaming commit contract")
struct RouterStreamingTests {
    func streaming(_ onInterrupt: InterruptPolicy = .error) -> CompletionRequest {
        var request = CompletionRequest(requestID: "r-s", messages: messages())
        request.chat.stream = true
        request.onInterrupt = onInterrupt
        return request
    }

    @Test("before the first delta a failure falls back invisibly; the caller sees only the server's deltas")
    func fallBackBeforeTheCommit() async throws {
        let h = try Harness(["gpt-4o": [.fail(.serverError)], "claude-3-5-sonnet": [.stream(["Hel", "lo"])]])
        let sink = CollectingSink()
        let result = try #require(await h.router.execute(streaming(), stream: sink).success)
        #expect(result.content == "Hello")
        #expect(sink.all == [
            .delta("Hel", model: "claude-3-5-sonnet"), .delta("lo", model: "claude-3-5-sonnet"),
            .finish(.stop, model: "claude-3-5-sonnet"),
        ])
        #expect(result.attempts.map(\.committed) == [false, true])
    }

    @Test("after the first delta a failure is an interruption saying what was delivered, never a success")
    func interruptedAfterTheCommit() async throws {
        let h = try Harness(["gpt-4o": [.stream(["Once ", "upon"], then: .connection)], "claude-3-5-sonnet": [.stream(["x"])]])
        let sink = CollectingSink()
        let failure = try #require(await h.router.execute(streaming(), stream: sink).failure)
        guard case .interrupted(let model, let cause, let delivered) = failure.kind else {
            Issue.record("expected interrupted, got \(failure.kind)")
            return
        }
        #expect(model == "gpt-4o" && cause.type == .connection)
        #expect(delivered == DeliveredPart(contentCharacters: 9))
        #expect(h.invoker.calledModels == ["gpt-4o"], "no other model was asked")
        #expect(!sink.all.contains { if case .finish = $0 { true } else { false } }, "no finish delta for a cut answer")
        #expect(h.recorder.all.map(\.success) == [false])
    }

    @Test("on_interrupt restart: a reset, then the next model from scratch, counted as a fallback")
    func restartAfterTheCommit() async throws {
        let h = try Harness(["gpt-4o": [.stream(["Once "], then: .timeout)], "claude-3-5-sonnet": [.stream(["Fresh ", "start"])]])
        let sink = CollectingSink()
        let result = try #require(await h.router.execute(streaming(.restart), stream: sink).success)
        #expect(sink.all == [
            .delta("Once ", model: "gpt-4o"), .reset(model: "gpt-4o", reason: .timeout),
            .delta("Fresh ", model: "claude-3-5-sonnet"), .delta("start", model: "claude-3-5-sonnet"),
            .finish(.stop, model: "claude-3-5-sonnet"),
        ])
        #expect(result.content == "Fresh start", "the result is the second model's answer alone")
        #expect(result.fallbackCount == 1)
        #expect(h.invoker.calls[1].request.chat.messages == messages(), "no prefill: the next model gets the caller's messages")
    }

    @Test("a timeout after the commit is not retried on the same model even when retries are on")
    func noSameModelRetryAfterTheCommit() async throws {
        let clock = ManualClock()
        let invoker = ScriptedInvoker(clock: clock, ["gpt-4o": [.stream(["a"], then: .serverError), .stream(["b"])]])
        let resilience = Resilience(breakers: BreakerBoard(), health: HealthBoard())
        let router = Router(pool: try Seed.pool(), invoker: invoker, recorder: CollectingRecorder(), resilience: resilience, clock: clock)
        let failure = try #require(await router.execute(streaming(), stream: CollectingSink()).failure)
        guard case .interrupted = failure.kind else {
            Issue.record("expected interrupted, got \(failure.kind)")
            return
        }
        #expect(invoker.calledModels == ["gpt-4o"])
    }

    @Test("without a sink, or for a non-streaming request, nothing streams")
    func noSinkNoStream() async throws {
        let h = try Harness(["gpt-4o": [.ok("whole")]])
        let sink = CollectingSink()
        let result = try #require(await h.router.execute(CompletionRequest(requestID: "r", messages: messages()), stream: sink).success)
        #expect(result.content == "whole")
        #expect(sink.all.isEmpty)
    }
}
