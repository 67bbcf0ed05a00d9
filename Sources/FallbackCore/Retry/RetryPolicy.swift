/// When to try the same model again after a failure, and how long to wait first.
///
/// Only errors a retry can help are retried (`ErrorType.isRetryable`: rate_limited, overloaded,
/// server_error, timeout, connection). The wait is the provider's own retry-after when it gave one
/// (Retry-After, retry-after-ms, Gemini's retryDelay, parsed into `ProviderFailure.retryAfterMs`),
/// else full-jitter exponential backoff. A wait that does not leave room for another attempt
/// before the deadline means no retry: the router moves on to the next model at once.
/// The per-provider `RetryBudget` is a separate check the router makes as well.
public struct RetryPolicy: Sendable, Hashable {
    /// Retries per model after its first attempt (1: at most 2 attempts on one model); 0 disables retries.
    public var maxRetries: Int
    /// Backoff base: retry `n` waits uniformly in `0...min(maxDelayMs, baseDelayMs * 2^n)` (100).
    public var baseDelayMs: Int64
    /// Backoff cap (2,000).
    public var maxDelayMs: Int64

    public init(maxRetries: Int = 1, baseDelayMs: Int64 = 100, maxDelayMs: Int64 = 2_000) {
        self.maxRetries = maxRetries
        self.baseDelayMs = baseDelayMs
        self.maxDelayMs = maxDelayMs
    }

    /// One retry, backoff base 100 ms, cap 2 s.
    public static let `default` = RetryPolicy()

    /// The largest backoff retry `retryIndex` may draw: `min(maxDelayMs, baseDelayMs * 2^retryIndex)`,
    /// never negative and never overflowing.
    public func backoffCeilingMs(retryIndex: Int) -> Int64 {
        let cap = max(0, maxDelayMs)
        let base = max(0, baseDelayMs)
        let shift = max(0, retryIndex)
        guard base > 0 else { return 0 }
        // base * 2^shift > cap as soon as the shift moves base past cap's highest bit.
        guard shift < 63, base <= (Int64.max >> shift) else { return cap }
        return min(cap, base << shift)
    }

    /// Full-jitter exponential backoff: uniform in `0...min(maxDelayMs, baseDelayMs * 2^retryIndex)`.
    /// `retryIndex` 0 is the first retry.
    public func backoffMs(retryIndex: Int, using rng: inout some RandomNumberGenerator) -> Int64 {
        let ceiling = backoffCeilingMs(retryIndex: retryIndex)
        guard ceiling > 0 else { return 0 }
        return Int64.random(in: 0...ceiling, using: &rng)
    }

    /// The wait before retry `retryIndex` after `failure`, or `nil` when no retry should happen:
    /// the error is not retryable, the retries are used up, or the wait (the provider's retry-after
    /// when it gave one — it wins over backoff — else the backoff) plus `minAttemptMs` does not
    /// fit in `remainingMs` (so a zero or negative remainder never retries).
    public func decide(
        after failure: ProviderFailure, retryIndex: Int, remainingMs: Int64, minAttemptMs: Int64 = 50,
        using rng: inout some RandomNumberGenerator
    ) -> Int64? {
        guard failure.type.isRetryable, retryIndex >= 0, retryIndex < maxRetries, remainingMs > 0 else { return nil }
        let wait: Int64
        if let retryAfter = failure.retryAfterMs {
            wait = max(0, retryAfter)
        } else {
            wait = backoffMs(retryIndex: retryIndex, using: &rng)
        }
        // wait + minAttemptMs <= remainingMs, written so that huge values cannot overflow.
        let room = remainingMs - max(0, minAttemptMs)
        guard room >= 0, wait <= room else { return nil }
        return wait
    }
}
