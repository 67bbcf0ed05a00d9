import Testing

@testable import FallbackCore

@Suite("Router: walking a chain")
struct RouterTests {
    @Test("the first model serves: no fallback, one attempt, one row")
    func firstModelServes() async throws {
        let h = try Harness(["gpt-4o": [.ok("hi there", Usage(inputTokens: 1_200, outputTokens: 350), after: 250)]])
        let request = CompletionRequest(requestID: "r-1", messages: messages(), task: "complex_reasoning")
        let result = try #require(await h.router.execute(request).success)

        #expect(result.content == "hi there")
        #expect(result.model == Seed.gpt4o)
        #expect(result.requestID == "r-1")
        #expect(result.task == "complex_reasoning")
        #expect(result.chain == "complex_reasoning")
        #expect(result.fallbackCount == 0)
        #expect(result.usedFallback == false)
        #expect(result.latencyMs == 250)
        #expect(result.finishReason == .stop)
        #expect(result.usage == Usage(inputTokens: 1_200, outputTokens: 350))
        #expect(abs(result.costUSD - 0.01125) < 1e-12)
        #expect(result.attempts.count == 1)
        #expect(result.attempts[0].success && result.attempts[0].errorType == nil && result.attempts[0].httpStatus == 200)
        #expect(h.invoker.calledModels == ["gpt-4o"])
        #expect(h.recorder.all.count == 1)
        #expect(h.recorder.all.first?.success == true)
    }

    @Test("rate_limited primary, second serves: fallback_count 1, attempts and rows in order")
    func fallbackToSecond() async throws {
        let h = try Harness([
            "gpt-4o": [.fail(.rateLimited, status: 429, after: 35)],
            "claude-3-5-sonnet": [.ok("from sonnet", Usage(inputTokens: 12, outputTokens: 40), after: 777)],
        ])
        let request = CompletionRequest(
            requestID: "r-42", messages: messages(), task: "complex_reasoning", metadataJSON: #"{"user":"u1"}"#)
        let startMillis = h.clock.now().unixMillis
        let result = try #require(await h.router.execute(request).success)

        #expect(result.model.name == "claude-3-5-sonnet")
        #expect(result.fallbackCount == 1)
        #expect(result.usedFallback)
        #expect(result.latencyMs == 812)
        #expect(result.attempts.map(\.model) == ["gpt-4o", "claude-3-5-sonnet"])
        #expect(result.attempts.map(\.provider) == ["openai", "anthropic"])
        #expect(result.attempts.map(\.success) == [false, true])
        #expect(result.attempts.map(\.errorType) == [.rateLimited, nil])
        #expect(result.attempts.map(\.httpStatus) == [429, 200])
        #expect(result.attempts.map(\.latencyMs) == [35, 777])
        #expect(result.attempts[0].message == "rate_limited from fake")
        #expect(result.attempts[1].message == nil)
        #expect(result.usage == Usage(inputTokens: 12, outputTokens: 40))
        #expect(abs(result.costUSD - 0.000636) < 1e-12)

        let rows = h.recorder.all
        #expect(rows.map(\.attemptIndex) == [0, 1])
        #expect(rows.map(\.model) == ["gpt-4o", "claude-3-5-sonnet"])
        #expect(rows.map(\.provider) == ["openai", "anthropic"])
        #expect(rows.map(\.success) == [false, true])
        #expect(rows.map(\.errorType) == [.rateLimited, nil])
        #expect(rows.map(\.httpStatus) == [429, 200])
        #expect(rows.map(\.latencyMs) == [35, 777])
        #expect(rows.map(\.startedAtMillis) == [startMillis, startMillis + 35])
        for row in rows {
            #expect(row.requestID == "r-42")
            #expect(row.task == "complex_reasoning")
            #expect(row.chain == "complex_reasoning")
            #expect(row.metadataJSON == #"{"user":"u1"}"#)
        }
        #expect(rows[1].usage == Usage(inputTokens: 12, outputTokens: 40))
        #expect(abs(rows[1].costUSD - 0.000636) < 1e-12)
    }

    @Test("every model fails: allModelsFailed with every attempt, in chain order")
    func allFail() async throws {
        let h = try Harness([
            "gpt-4o": [.fail(.serverError, status: 500)],
            "claude-3-5-sonnet": [.fail(.overloaded, status: 529)],
            "gpt-4o-mini": [.fail(.auth, status: 401)],
            "claude-3-haiku": [.fail(.connection)],
        ])
        let failure = try #require(await h.router.execute(CompletionRequest(requestID: "r-x", messages: messages())).failure)
        #expect(failure.kind == .allModelsFailed)
        #expect(failure.requestID == "r-x")
        #expect(failure.task == "default")
        #expect(failure.chain == "default")
        #expect(failure.attempts.map(\.model) == ["gpt-4o", "claude-3-5-sonnet", "gpt-4o-mini", "claude-3-haiku"])
        #expect(failure.attempts.map(\.errorType) == [.serverError, .overloaded, .auth, .connection])
        #expect(failure.attempts.map(\.httpStatus) == [500, 529, 401, nil])
        #expect(failure.attempts.allSatisfy { !$0.success })
        #expect(failure.latencyMs == 200)
        #expect(h.recorder.all.map(\.attemptIndex) == [0, 1, 2, 3])
        #expect(h.recorder.all.allSatisfy { !$0.success })
    }

    @Test("an unknown task runs default, keeps its own task name, reports chain default")
    func unknownTask() async throws {
        let h = try Harness(["gpt-4o": [.fail(.timeout)], "claude-3-5-sonnet": [.ok()]])
        let result = try #require(
            await h.router.execute(CompletionRequest(requestID: "r", messages: messages(), task: "translate")).success)
        #expect(result.task == "translate")
        #expect(result.chain == "default")
        #expect(h.recorder.all.allSatisfy { $0.task == "translate" && $0.chain == "default" })
    }

    @Test("an explicit models list replaces the chain and is named explicit")
    func explicitChain() async throws {
        let h = try Harness(["claude-3-haiku": [.fail(.rateLimited, status: 429)], "gpt-4o-mini": [.ok()]])
        let request = CompletionRequest(
            requestID: "r", messages: messages(), task: "complex_reasoning", models: ["claude-3-haiku", "gpt-4o-mini"])
        #expect(h.router.plan(for: request, at: h.clock.now()).steps.map(\.model.name) == ["claude-3-haiku", "gpt-4o-mini"])
        let result = try #require(await h.router.execute(request).success)
        #expect(result.chain == "explicit")
        #expect(result.chain == RoutePlan.explicitChain)
        #expect(result.task == "complex_reasoning")
        #expect(result.model.name == "gpt-4o-mini")
        #expect(h.invoker.calledModels == ["claude-3-haiku", "gpt-4o-mini"])
        #expect(h.recorder.all.allSatisfy { $0.chain == "explicit" })
    }

    @Test("max_tokens is clipped to each model's max_tokens, messages and temperature pass through")
    func maxTokensClipped() async throws {
        var small = Seed.gpt4o
        small.maxTokens = 256
        let h = try Harness(
            models: [small, Seed.sonnet, Seed.gpt4oMini, Seed.haiku],
            ["gpt-4o": [.fail(.serverError)], "claude-3-5-sonnet": [.ok()]])
        var request = CompletionRequest(requestID: "r", messages: messages("q"))
        request.chat.maxOutputTokens = 1_000
        request.chat.temperature = 1.25
        _ = await h.router.execute(request)
        let calls = h.invoker.calls
        #expect(calls.map(\.request.maxOutputTokens) == [256, 1_000])
        #expect(calls.allSatisfy { $0.request.temperature == 1.25 && $0.request.chat.messages == messages("q") })
        #expect(calls.map(\.request.model) == [small, Seed.sonnet])
    }

    @Test("cost_usd sums every attempt, failed ones that reported usage included")
    func costIncludesFailedAttempts() async throws {
        let h = try Harness([
            "gpt-4o": [.fail(.badResponse, status: 200, usage: Usage(inputTokens: 1_200, outputTokens: 350))],
            "claude-3-5-sonnet": [.fail(.timeout)],
            "gpt-4o-mini": [.ok("x", Usage(inputTokens: 1_200, outputTokens: 350))],
        ])
        let result = try #require(await h.router.execute(CompletionRequest(requestID: "r", messages: messages())).success)
        #expect(result.attempts.map(\.costUSD).count == 3)
        #expect(abs(result.attempts[0].costUSD - 0.01125) < 1e-12)
        #expect(result.attempts[1].costUSD == 0)
        #expect(abs(result.costUSD - (0.01125 + 0.00039)) < 1e-12)
        // Usage is the serving attempt's only.
        #expect(result.usage == Usage(inputTokens: 1_200, outputTokens: 350))
        #expect(result.fallbackCount == 2)
        #expect(abs(h.recorder.all[0].costUSD - 0.01125) < 1e-12)
        #expect(h.recorder.all[0].usage == Usage(inputTokens: 1_200, outputTokens: 350))
    }

    @Test("the configured-order planner keeps the chain as given")
    func configuredPlanner() {
        let plan = ConfiguredOrderPlanner().plan(chain: "c", models: [Seed.haiku, Seed.gpt4o], at: ManualClock().now())
        #expect(plan == RoutePlan(chain: "c", steps: [.init(model: Seed.haiku, reason: .configured), .init(model: Seed.gpt4o, reason: .configured)]))
    }

    @Test("FanOutRecorder hands each attempt to every recorder")
    func fanOut() async throws {
        let a = CollectingRecorder()
        let b = CollectingRecorder()
        let clock = ManualClock()
        let router = Router(
            pool: try Seed.pool(), invoker: ScriptedInvoker(clock: clock, ["gpt-4o": [.fail(.timeout)], "claude-3-5-sonnet": [.ok()]]),
            recorder: FanOutRecorder([a, b]), clock: clock)
        _ = await router.execute(CompletionRequest(requestID: "r", messages: messages()))
        #expect(a.all.count == 2)
        #expect(a.all == b.all)
    }
}
