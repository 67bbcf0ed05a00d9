import Testing

@testable import FallbackCore

@Suite("Retry: policy")
struct RetryPolicyTests {
    static let policy = RetryPolicy.default

    func failure(_ type: ErrorType, retryAfterMs: Int64? = nil) -> ProviderFailure {
        ProviderFailure(type, message: "\(type.rawValue)", retryAfterMs: retryAfterMs)
    }

    @Test("defaults: one retry, base 100 ms, cap 2 s")
    func defaults() {
        let policy = RetryPolicy.default
        #expect(policy.maxRetries == 1)
        #expect(policy.baseDelayMs == 100)
        #expect(policy.maxDelayMs == 2_000)
        #expect((0...6).map { policy.backoffCeilingMs(retryIndex: $0) } == [100, 200, 400, 800, 1_600, 2_000, 2_000])
    }

    @Test("backoff is always within [0, min(cap, base * 2^n)] and covers that range", arguments: 0...8)
    func backoffBounds(retryIndex: Int) {
        let policy = RetryPolicy(maxRetries: 10, baseDelayMs: 100, maxDelayMs: 2_000)
        let ceiling = min(2_000, 100 << Int64(retryIndex))
        var generator = SeededGenerator(seed: 0xFEED + UInt64(retryIndex))
        var draws: [Int64] = []
        for _ in 0..<20_000 { draws.append(policy.backoffMs(retryIndex: retryIndex, using: &generator)) }
        #expect(draws.allSatisfy { $0 >= 0 && $0 <= ceiling })
        // Full jitter: uniform over the whole range, not clustered near the ceiling.
        #expect(draws.min() ?? -1 <= ceiling / 50)
        #expect(draws.max() ?? -1 >= ceiling - ceiling / 50)
        let mean = Double(draws.reduce(0, +)) / Double(draws.count)
        #expect(abs(mean - Double(ceiling) / 2) <= Double(ceiling) * 0.02)
    }

    @Test("the same seed gives the same draws")
    func reproducible() {
        var first = SeededGenerator(seed: 7)
        var second = SeededGenerator(seed: 7)
        let policy = RetryPolicy.default
        let a = (0..<50).map { _ in policy.backoffMs(retryIndex: 2, using: &first) }
        let b = (0..<50).map { _ in policy.backoffMs(retryIndex: 2, using: &second) }
        #expect(a == b)
    }

    @Test("huge retry indexes and bases never overflow; zero base never waits")
    func ceilingOverflow() {
        #expect(RetryPolicy.default.backoffCeilingMs(retryIndex: 64) == 2_000)
        #expect(RetryPolicy.default.backoffCeilingMs(retryIndex: .max) == 2_000)
        #expect(RetryPolicy.default.backoffCeilingMs(retryIndex: -3) == 100)
        #expect(RetryPolicy(baseDelayMs: .max / 2, maxDelayMs: .max).backoffCeilingMs(retryIndex: 5) == .max)
        var generator = SeededGenerator(seed: 1)
        #expect(RetryPolicy(baseDelayMs: 0).backoffMs(retryIndex: 3, using: &generator) == 0)
    }

    @Test("only retryable errors are retried")
    func retryableOnly() {
        var generator = SeededGenerator(seed: 2)
        for type in ErrorType.allCases {
            let wait = Self.policy.decide(after: failure(type), retryIndex: 0, remainingMs: 30_000, using: &generator)
            #expect((wait != nil) == type.isRetryable, "\(type)")
            if let wait { #expect(wait >= 0 && wait <= 100) }
        }
        #expect(ErrorType.allCases.filter(\.isRetryable) == [.rateLimited, .overloaded, .serverError, .timeout, .connection])
    }

    @Test("retries are capped by maxRetries")
    func maxRetries() {
        var generator = SeededGenerator(seed: 3)
        let timeout = failure(.timeout)
        #expect(Self.policy.decide(after: timeout, retryIndex: 0, remainingMs: 30_000, using: &generator) != nil)
        #expect(Self.policy.decide(after: timeout, retryIndex: 1, remainingMs: 30_000, using: &generator) == nil)
        let three = RetryPolicy(maxRetries: 3)
        let allowed = (0..<5).map { three.decide(after: timeout, retryIndex: $0, remainingMs: 30_000, using: &generator) != nil }
        #expect(allowed == [true, true, true, false, false])
        #expect(RetryPolicy(maxRetries: 0).decide(after: timeout, retryIndex: 0, remainingMs: 30_000, using: &generator) == nil)
        #expect(three.decide(after: timeout, retryIndex: -1, remainingMs: 30_000, using: &generator) == nil)
    }

    @Test("the provider's retry-after wins over backoff")
    func retryAfterWins() {
        var generator = SeededGenerator(seed: 4)
        let limited = failure(.rateLimited, retryAfterMs: 1_500)
        #expect(Self.policy.decide(after: limited, retryIndex: 0, remainingMs: 30_000, using: &generator) == 1_500)
        let zero = failure(.overloaded, retryAfterMs: 0)
        #expect(Self.policy.decide(after: zero, retryIndex: 0, remainingMs: 30_000, using: &generator) == 0)
        let negative = failure(.serverError, retryAfterMs: -20)
        #expect(Self.policy.decide(after: negative, retryIndex: 0, remainingMs: 30_000, using: &generator) == 0)
        // Even a retry-after does not make a non-retryable error retryable.
        let auth = failure(.auth, retryAfterMs: 10)
        #expect(Self.policy.decide(after: auth, retryIndex: 0, remainingMs: 30_000, using: &generator) == nil)
    }

    @Test("retry-after is honoured only when it and one more attempt fit in the remaining time")
    func retryAfterMustFit() {
        var generator = SeededGenerator(seed: 5)
        let limited = failure(.rateLimited, retryAfterMs: 1_500)
        let policy = RetryPolicy.default
        #expect(policy.decide(after: limited, retryIndex: 0, remainingMs: 1_550, using: &generator) == 1_500)
        #expect(policy.decide(after: limited, retryIndex: 0, remainingMs: 1_549, using: &generator) == nil)
        #expect(policy.decide(after: limited, retryIndex: 0, remainingMs: 1_500, minAttemptMs: 0, using: &generator) == 1_500)
        #expect(policy.decide(after: limited, retryIndex: 0, remainingMs: 1_700, minAttemptMs: 250, using: &generator) == nil)
        // A huge retry-after means moving on at once.
        for huge: Int64 in [3_600_000, 86_400_000, .max] {
            let failure = failure(.rateLimited, retryAfterMs: huge)
            #expect(policy.decide(after: failure, retryIndex: 0, remainingMs: 30_000, using: &generator) == nil)
        }
        #expect(policy.decide(after: failure(.rateLimited, retryAfterMs: .max), retryIndex: 0, remainingMs: .max, using: &generator) == nil)
    }

    @Test("zero or negative remaining time never retries")
    func noTimeLeft() {
        var generator = SeededGenerator(seed: 6)
        for remaining: Int64 in [0, -1, -30_000, .min] {
            #expect(Self.policy.decide(after: failure(.timeout), retryIndex: 0, remainingMs: remaining, using: &generator) == nil)
            #expect(Self.policy.decide(
                after: failure(.rateLimited, retryAfterMs: 0), retryIndex: 0, remainingMs: remaining, minAttemptMs: 0,
                using: &generator) == nil)
        }
    }

    @Test("a backoff that does not fit before the deadline means no retry")
    func backoffMustFit() {
        var generator = SeededGenerator(seed: 8)
        let policy = RetryPolicy(maxRetries: 1, baseDelayMs: 1_000, maxDelayMs: 1_000)
        var retried = 0
        var skipped = 0
        for _ in 0..<2_000 {
            if let wait = policy.decide(after: failure(.connection), retryIndex: 0, remainingMs: 550, using: &generator) {
                #expect(wait + 50 <= 550)
                retried += 1
            } else {
                skipped += 1
            }
        }
        // About half the draws (0...500 of 0...1000) fit.
        #expect(retried > 800 && skipped > 800)
        #expect(policy.decide(after: failure(.connection), retryIndex: 0, remainingMs: 49, using: &generator) == nil)
    }
}
