import Testing

@testable import FallbackCore

@Suite("Retry: budget")
struct RetryBudgetTests {
    func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) < 1e-9 }

    @Test("a provider never seen has a full bucket and may retry")
    func fresh() {
        let budget = RetryBudget()
        #expect(budget.maxTokens == 10)
        #expect(budget.tokenRatio == 0.1)
        #expect(budget.tokens(provider: "openai") == 10)
        #expect(budget.allowsRetry(provider: "openai"))
        #expect(budget.allTokens().isEmpty)
    }

    @Test("5 failures at maxTokens 10 stop retries (tokens <= 5); 4 do not")
    func failuresStopRetries() {
        let budget = RetryBudget(maxTokens: 10, tokenRatio: 0.1)
        for _ in 0..<4 { budget.record(provider: "openai", success: false) }
        #expect(budget.tokens(provider: "openai") == 6)
        #expect(budget.allowsRetry(provider: "openai"))
        budget.record(provider: "openai", success: false)
        #expect(budget.tokens(provider: "openai") == 5)
        #expect(!budget.allowsRetry(provider: "openai"))
        for _ in 0..<20 { budget.record(provider: "openai", success: false) }
        #expect(budget.tokens(provider: "openai") == 0)  // floored at zero
    }

    @Test("successes refill at tokenRatio, capped at maxTokens, with no drift")
    func refill() {
        let budget = RetryBudget(maxTokens: 10, tokenRatio: 0.1)
        for _ in 0..<5 { budget.record(provider: "anthropic", success: false) }
        budget.record(provider: "anthropic", success: true)
        #expect(close(budget.tokens(provider: "anthropic"), 5.1))
        #expect(budget.allowsRetry(provider: "anthropic"))
        for _ in 0..<9 { budget.record(provider: "anthropic", success: true) }
        #expect(budget.tokens(provider: "anthropic") == 6)  // exact: thousandths, no float drift
        for _ in 0..<1_000 { budget.record(provider: "anthropic", success: true) }
        #expect(budget.tokens(provider: "anthropic") == 10)
        let generous = RetryBudget(maxTokens: 4, tokenRatio: 0.5)
        for _ in 0..<3 { generous.record(provider: "google", success: false) }
        #expect(!generous.allowsRetry(provider: "google"))
        generous.record(provider: "google", success: true)
        #expect(generous.tokens(provider: "google") == 1.5)
        generous.record(provider: "google", success: true)
        generous.record(provider: "google", success: true)
        #expect(generous.allowsRetry(provider: "google"))  // 2.5 > 2
    }

    @Test("providers are isolated")
    func isolation() {
        let budget = RetryBudget()
        for _ in 0..<8 { budget.record(provider: "openai", success: false) }
        #expect(!budget.allowsRetry(provider: "openai"))
        #expect(budget.allowsRetry(provider: "anthropic"))
        #expect(budget.tokens(provider: "anthropic") == 10)
        budget.record(provider: "anthropic", success: false)
        #expect(budget.allTokens() == ["openai": 2, "anthropic": 9])
    }

    @Test("outcomes that do not reflect health are not counted")
    func excludedOutcomes() {
        let budget = RetryBudget()
        #expect(!budget.record(provider: "openai", .failure(.cancelled, latencyMs: 1)))
        #expect(!budget.record(provider: "openai", .failure(.invalidRequest, latencyMs: 1)))
        #expect(budget.tokens(provider: "openai") == 10)
        #expect(budget.record(provider: "openai", .failure(.serverError, latencyMs: 1)))
        #expect(budget.tokens(provider: "openai") == 9)
    }

    @Test("degenerate settings: no tokens never allows retries; negative settings count as zero")
    func degenerate() {
        let none = RetryBudget(maxTokens: 0)
        #expect(!none.allowsRetry(provider: "openai"))
        let negative = RetryBudget(maxTokens: -3, tokenRatio: -1)
        #expect(negative.maxTokens == 0 && negative.tokenRatio == 0)
        #expect(!negative.allowsRetry(provider: "openai"))
    }

    @Test("concurrent use is exact")
    func concurrent() async {
        let budget = RetryBudget(maxTokens: 20_000, tokenRatio: 0.5)
        for _ in 0..<10_000 { budget.record(provider: "anthropic", success: false) }
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<100 {
                group.addTask {
                    for call in 0..<100 {
                        budget.record(provider: "openai", success: false)
                        // anthropic: 50 failures and 50 successes per task.
                        budget.record(provider: "anthropic", success: (task + call) % 2 == 0)
                        _ = budget.allowsRetry(provider: "openai")
                    }
                }
            }
        }
        #expect(budget.tokens(provider: "openai") == 10_000)
        #expect(!budget.allowsRetry(provider: "openai"))
        // 10,000 - 5,000 failures + 5,000 * 0.5: never near either bound, so order does not matter.
        #expect(budget.tokens(provider: "anthropic") == 7_500)
    }
}
