import Testing

@testable import FallbackCore

@Suite("Router: capabilities and context windows")
struct RouterCapabilityTests {
    /// The seed pool where the Anthropic models cannot take images or a seed, and windows are small.
    static func pool() -> [ModelConfig] {
        var gpt4o = Seed.gpt4o
        gpt4o.capabilities = [.tools, .vision, .seed]
        gpt4o.contextWindow = 1_500
        var sonnet = Seed.sonnet
        sonnet.capabilities = [.tools]
        sonnet.contextWindow = 2_000
        var mini = Seed.gpt4oMini
        mini.capabilities = [.tools, .vision, .seed]
        mini.contextWindow = 4_000
        var haiku = Seed.haiku
        haiku.capabilities = []
        haiku.contextWindow = 0
        return [gpt4o, sonnet, mini, haiku]
    }

    func request(_ chat: ChatRequest) -> CompletionRequest {
        CompletionRequest(requestID: "r", chat: chat)
    }

    func imageRequest() -> ChatRequest {
        ChatRequest(messages: [.user([.text("what is this?"), .image(url: "https://x/y.png", detail: nil)])])
    }

    @Test("a model without a capability the request needs is passed over, naming it")
    func skipsModelsLackingACapability() async throws {
        let h = try Harness(models: Self.pool(), ["gpt-4o": [.fail(.serverError)], "gpt-4o-mini": [.ok()]])
        let result = try #require(await h.router.execute(request(imageRequest())).success)
        #expect(result.model.name == "gpt-4o-mini")
        #expect(h.invoker.calledModels == ["gpt-4o", "gpt-4o-mini"], "sonnet and haiku were never called")
        let sonnet = try #require(result.route.first { $0.model.name == "claude-3-5-sonnet" })
        #expect(sonnet.reason == .lacksCapability && sonnet.capability == .vision)
        #expect(result.route.first { $0.model.name == "claude-3-haiku" }?.capability == .vision)
        #expect(result.fallbackCount == 2, "the primary failed and sonnet could not take it: both passed over")
    }

    @Test("when no model of the chain can take the request, nothing is called and the capability is named")
    func noCapableModel() async throws {
        let h = try Harness(models: Self.pool(), [:])
        var chat = ChatRequest(messages: messages())
        chat.messages.append(.user([.audio(data: "UklGRg==", format: "wav")]))
        let failure = try #require(await h.router.execute(request(chat)).failure)
        guard case .noCapableModel(let capability) = failure.kind else {
            Issue.record("expected noCapableModel, got \(failure.kind)")
            return
        }
        #expect(capability == .audio)
        #expect(h.invoker.calls.isEmpty)
        #expect(failure.route.allSatisfy { $0.reason == .lacksCapability })
    }

    @Test("a request too big for a model's window skips it; one too big for all fails before any call")
    func contextWindows() async throws {
        // ~1,250 input tokens (5,000 bytes) plus a 500-token cap: fits 2,000 and 4,000 and unknown, not 1,500.
        var chat = ChatRequest(messages: [.user(String(repeating: "x", count: 5_000))])
        chat.maxOutputTokens = 500
        let h = try Harness(models: Self.pool(), ["claude-3-5-sonnet": [.ok()]])
        let result = try #require(await h.router.execute(request(chat)).success)
        #expect(result.model.name == "claude-3-5-sonnet")
        #expect(result.route.first { $0.model.name == "gpt-4o" }?.reason == .contextTooSmall)
        #expect(h.invoker.calledModels == ["claude-3-5-sonnet"])

        var huge = ChatRequest(messages: [.user(String(repeating: "x", count: 40_000))])
        huge.maxOutputTokens = 100
        var bounded = Self.pool()
        bounded[3].contextWindow = 8_000
        let all = try Harness(models: bounded, [:])
        let failure = try #require(await all.router.execute(request(huge)).failure)
        guard case .contextTooLarge(let tokens) = failure.kind else {
            Issue.record("expected contextTooLarge, got \(failure.kind)")
            return
        }
        #expect(tokens >= 10_000)
        #expect(all.invoker.calls.isEmpty)
    }

    @Test("after context_length the walk goes on only to models with a larger (or unknown) window")
    func contextLengthMovesToLargerWindows() async throws {
        // Default chain: gpt-4o (1,500) says too long; sonnet (2,000) is next and larger, gpt-4o-mini (4,000) too.
        // Make sonnet's window equal to gpt-4o's: it must be passed over.
        var models = Self.pool()
        models[1].contextWindow = 1_000
        let h = try Harness(models: models, ["gpt-4o": [.fail(.contextLength, status: 400)], "gpt-4o-mini": [.ok()]])
        let result = try #require(await h.router.execute(request(ChatRequest(messages: messages()))).success)
        #expect(result.model.name == "gpt-4o-mini")
        #expect(h.invoker.calledModels == ["gpt-4o", "gpt-4o-mini"])
        #expect(result.route.first { $0.model.name == "claude-3-5-sonnet" }?.reason == .contextTooSmall)
    }

    @Test("the seed's text chains are unaffected: every model takes a plain conversation")
    func plainTextNeedsNothing() {
        #expect(ChatRequest(messages: messages()).requiredCapabilities.isEmpty)
        var chat = ChatRequest(messages: messages())
        chat.presencePenalty = 0
        chat.frequencyPenalty = 0
        #expect(chat.requiredCapabilities.isEmpty, "zero penalties are the defaults, not a need")
        chat.seed = 3
        chat.tools = [ToolDefinition(name: "f")]
        chat.responseFormat = .jsonSchema(JSONSchemaFormat(name: "s"))
        chat.reasoningEffort = "low"
        #expect(chat.requiredCapabilities == [.jsonSchema, .reasoning, .seed, .tools])
    }
}

@Suite("Prices: cached, cache-written and reasoning tokens")
struct PricesTests {
    @Test("cached and cache-written input at their own prices, reasoning as output")
    func cost() {
        let prices = Prices(inputPerMTok: 3, outputPerMTok: 15, cachedInputPerMTok: 0.3, cacheWritePerMTok: 3.75)
        let usage = Usage(inputTokens: 1_121, outputTokens: 50, cachedInputTokens: 1_000, cacheWriteTokens: 100, reasoningTokens: 20)
        // 21 plain × 3 + 1,000 × 0.3 + 100 × 3.75 + 50 × 15, per million.
        #expect(abs(prices.cost(of: usage) - (63 + 300 + 375 + 750) / 1_000_000) < 1e-15)
        #expect(Prices(inputPerMTok: 2, outputPerMTok: 8).cachedInputPerMTok == 2, "unconfigured cache prices are the input price")
        let seed = ModelConfig(name: "m", provider: "p", modelID: "m", priority: 1, maxTokens: 1, costPer1kInput: 0.005, costPer1kOutput: 0.015)
        #expect(abs(seed.cost(of: Usage(inputTokens: 1_000, outputTokens: 1_000)) - 0.02) < 1e-15)
    }
}
