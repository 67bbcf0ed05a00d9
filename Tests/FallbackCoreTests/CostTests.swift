import Testing

@testable import FallbackCore

@Suite("Cost and Usage")
struct CostTests {
    /// Costs are sums of products of decimal prices, so compare with a tolerance far below a cent's billionth.
    func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) < 1e-12 }

    @Test("gpt-4o: 1,200 input + 350 output = 0.006 + 0.00525 = 0.01125")
    func gpt4o() {
        let cost = Seed.gpt4o.cost(of: Usage(inputTokens: 1_200, outputTokens: 350))
        #expect(close(cost, 0.01125))
    }

    @Test("claude-3-haiku: 1,200 input + 350 output = 0.0003 + 0.0004375 = 0.0007375")
    func haiku() {
        let cost = Seed.haiku.cost(of: Usage(inputTokens: 1_200, outputTokens: 350))
        #expect(close(cost, 0.0007375))
    }

    @Test("gpt-4o-mini: 1,200 input + 350 output = 0.00018 + 0.00021 = 0.00039")
    func gpt4oMini() {
        let cost = Seed.gpt4oMini.cost(of: Usage(inputTokens: 1_200, outputTokens: 350))
        #expect(close(cost, 0.00039))
    }

    @Test("claude-3-5-sonnet: the spec's 12 input + 40 output = 0.000036 + 0.0006 = 0.000636")
    func sonnetSpecExample() {
        let cost = Seed.sonnet.cost(of: Usage(inputTokens: 12, outputTokens: 40))
        #expect(close(cost, 0.000636))
    }

    @Test("input and output are priced separately")
    func inputAndOutputSeparately() {
        #expect(close(Seed.gpt4o.cost(of: Usage(inputTokens: 1_000, outputTokens: 0)), 0.005))
        #expect(close(Seed.gpt4o.cost(of: Usage(inputTokens: 0, outputTokens: 1_000)), 0.015))
        #expect(Seed.gpt4o.cost(of: .zero) == 0)
    }

    @Test("a free model costs nothing whatever the usage")
    func freeModel() {
        let free = ModelConfig(
            name: "local", provider: "sim", modelID: "l", priority: 1, maxTokens: 1, costPer1kInput: 0, costPer1kOutput: 0)
        #expect(free.cost(of: Usage(inputTokens: 1_000_000, outputTokens: 1_000_000)) == 0)
    }

    @Test("Usage adds field by field, zero is the identity")
    func usageAddition() {
        let a = Usage(inputTokens: 12, outputTokens: 40)
        let b = Usage(inputTokens: 1_200, outputTokens: 350)
        #expect(a + b == Usage(inputTokens: 1_212, outputTokens: 390))
        #expect(a + b == b + a)
        #expect(a + .zero == a)
        #expect(Usage.zero == Usage(inputTokens: 0, outputTokens: 0))
        #expect(Usage() == .zero)
    }

    @Test("cost is linear: cost(a + b) == cost(a) + cost(b)")
    func costIsLinear() {
        let a = Usage(inputTokens: 12, outputTokens: 40)
        let b = Usage(inputTokens: 1_200, outputTokens: 350)
        for model in Seed.models {
            #expect(close(model.cost(of: a + b), model.cost(of: a) + model.cost(of: b)))
        }
    }
}
