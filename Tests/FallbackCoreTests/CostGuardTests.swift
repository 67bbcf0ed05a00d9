import Testing

@testable import FallbackCore

@Suite("Cost guard: max_cost_ratio on the seed's prices")
struct CostGuardTests {
    func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) < 1e-12 }

    let free = ModelConfig(
        name: "local", provider: "sim", modelID: "local", priority: 9, maxTokens: 1, costPer1kInput: 0, costPer1kOutput: 0)
    let otherFree = ModelConfig(
        name: "local-2", provider: "sim", modelID: "local-2", priority: 9, maxTokens: 1, costPer1kInput: 0, costPer1kOutput: 0)

    @Test("price = input + output per 1k: 0.02, 0.018, 0.00075, 0.0015")
    func prices() {
        #expect(close(CostGuard.price(Seed.gpt4o), 0.02))
        #expect(close(CostGuard.price(Seed.sonnet), 0.018))
        #expect(close(CostGuard.price(Seed.gpt4oMini), 0.00075))
        #expect(close(CostGuard.price(Seed.haiku), 0.0015))
        #expect(CostGuard.price(free) == 0)
    }

    @Test("ratios against the primary: haiku is 2x mini, sonnet 0.9x gpt-4o; none against a free primary")
    func ratios() throws {
        #expect(close(try #require(CostGuard.ratio(Seed.haiku, primary: Seed.gpt4oMini)), 2.0))
        #expect(close(try #require(CostGuard.ratio(Seed.sonnet, primary: Seed.gpt4o)), 0.9))
        #expect(close(try #require(CostGuard.ratio(Seed.gpt4o, primary: Seed.gpt4oMini)), 0.02 / 0.00075))
        #expect(CostGuard.ratio(Seed.haiku, primary: free) == nil)
    }

    @Test("from gpt-4o-mini: haiku (ratio 2.0) is allowed at exactly 2.0, refused at 1.99 and 1.0")
    func boundaryFromMini() {
        #expect(CostGuard.allows(Seed.haiku, primary: Seed.gpt4oMini, maxRatio: 2.0))
        #expect(CostGuard.allows(Seed.haiku, primary: Seed.gpt4oMini, maxRatio: 2.01))
        #expect(!CostGuard.allows(Seed.haiku, primary: Seed.gpt4oMini, maxRatio: 1.99))
        #expect(!CostGuard.allows(Seed.haiku, primary: Seed.gpt4oMini, maxRatio: 1.0))
        #expect(!CostGuard.allows(Seed.gpt4o, primary: Seed.gpt4oMini, maxRatio: 2.0))
        #expect(!CostGuard.allows(Seed.sonnet, primary: Seed.gpt4oMini, maxRatio: 23.99))
        #expect(CostGuard.allows(Seed.sonnet, primary: Seed.gpt4oMini, maxRatio: 24.0))
    }

    @Test("from gpt-4o: 1.0 allows every cheaper fallback; 0.9 allows sonnet exactly, 0.89 does not")
    func boundaryFromGpt4o() {
        for model in [Seed.sonnet, Seed.gpt4oMini, Seed.haiku] {
            #expect(CostGuard.allows(model, primary: Seed.gpt4o, maxRatio: 1.0), "\(model.name)")
        }
        #expect(CostGuard.allows(Seed.sonnet, primary: Seed.gpt4o, maxRatio: 0.9))
        #expect(!CostGuard.allows(Seed.sonnet, primary: Seed.gpt4o, maxRatio: 0.89))
        #expect(CostGuard.allows(Seed.haiku, primary: Seed.gpt4o, maxRatio: 0.89))
        #expect(!CostGuard.allows(Seed.haiku, primary: Seed.gpt4o, maxRatio: 0.07))
        #expect(CostGuard.allows(Seed.haiku, primary: Seed.gpt4o, maxRatio: 0.075))
    }

    @Test("every seed pair: the exact ratio is allowed, one part in a million less is refused")
    func everyPairAtTheBoundary() throws {
        for primary in Seed.models {
            for candidate in Seed.models where candidate.name != primary.name {
                let ratio = try #require(CostGuard.ratio(candidate, primary: primary))
                #expect(CostGuard.allows(candidate, primary: primary, maxRatio: ratio), "\(candidate.name) over \(primary.name)")
                #expect(
                    !CostGuard.allows(candidate, primary: primary, maxRatio: ratio * (1 - 1e-6)),
                    "\(candidate.name) over \(primary.name)")
            }
        }
    }

    @Test("the primary itself is never refused, whatever the ratio")
    func primaryAlwaysAllowed() {
        for model in Seed.models {
            #expect(CostGuard.allows(model, primary: model, maxRatio: 0.5))
            #expect(CostGuard.allows(model, primary: model, maxRatio: 0))
        }
    }

    @Test("a free primary allows only free models; a free candidate is always allowed")
    func freeModels() {
        #expect(CostGuard.allows(otherFree, primary: free, maxRatio: 1.0))
        #expect(!CostGuard.allows(Seed.gpt4oMini, primary: free, maxRatio: 1_000_000))
        #expect(!CostGuard.allows(Seed.haiku, primary: free, maxRatio: 1.0))
        #expect(CostGuard.allows(free, primary: Seed.gpt4o, maxRatio: 0))
        #expect(CostGuard.allows(free, primary: Seed.gpt4oMini, maxRatio: -1))
    }

    @Test("degenerate limits: negative and NaN count as 0, infinity allows everything")
    func degenerateLimits() {
        #expect(!CostGuard.allows(Seed.haiku, primary: Seed.gpt4o, maxRatio: -1))
        #expect(!CostGuard.allows(Seed.haiku, primary: Seed.gpt4o, maxRatio: .nan))
        #expect(!CostGuard.allows(Seed.haiku, primary: Seed.gpt4o, maxRatio: 0))
        #expect(CostGuard.allows(Seed.gpt4o, primary: Seed.gpt4oMini, maxRatio: .infinity))
    }

    @Test("fallback delta on the seed: 1,200 in + 350 out served by haiku instead of gpt-4o saves 0.0105125")
    func fallbackDelta() {
        let usage = Usage(inputTokens: 1_200, outputTokens: 350)
        let primaryCost = Seed.gpt4o.cost(of: usage)
        let servedCost = Seed.haiku.cost(of: usage)
        #expect(close(primaryCost, 0.01125))
        #expect(close(servedCost - primaryCost, -0.0105125))
        // gpt-4o-mini primary, claude-3-haiku fallback: the fallback costs 0.0007375 - 0.00039 more.
        #expect(close(Seed.haiku.cost(of: usage) - Seed.gpt4oMini.cost(of: usage), 0.0003475))
    }
}
