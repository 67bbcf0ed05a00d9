import Synchronization

/// Retry throttling per provider, as gRPC's `retryThrottling` and Envoy's retry budgets: when a
/// provider is failing broadly, retries stop and only first attempts and fallbacks go out, so an
/// outage never multiplies traffic.
///
/// Each provider's bucket starts full at `maxTokens`. Every failed attempt takes one token (down to 0),
/// every success gives back `tokenRatio` (up to `maxTokens`); a retry is allowed only while
/// `tokens > maxTokens / 2`. With the defaults (10, 0.1), five failures in a row stop retries and it
/// takes ten successes per failure to earn them back. Tokens are kept in exact thousandths (as gRPC does),
/// so long runs never drift.
public final class RetryBudget: Sendable {
    /// The full bucket, per provider.
    public let maxTokens: Double
    /// What one success gives back.
    public let tokenRatio: Double

    private let maxMilli: Int64
    private let ratioMilli: Int64
    private let buckets: Mutex<[String: Int64]>

    /// - Parameters:
    ///   - maxTokens: the full bucket (10); values below 0 count as 0, which never allows a retry.
    ///   - tokenRatio: tokens a success gives back (0.1); values below 0 count as 0.
    public init(maxTokens: Double = 10, tokenRatio: Double = 0.1) {
        self.maxTokens = max(0, maxTokens)
        self.tokenRatio = max(0, tokenRatio)
        maxMilli = Self.milli(self.maxTokens)
        ratioMilli = Self.milli(self.tokenRatio)
        buckets = Mutex([:])
    }

    /// Whether `provider` may get a retry now: its tokens are above half the bucket.
    public func allowsRetry(provider: String) -> Bool {
        let tokens = buckets.withLock { $0[provider] ?? maxMilli }
        return tokens * 2 > maxMilli
    }

    /// Counts one finished attempt on `provider`. Feed only outcomes that reflect health
    /// (a cancelled or invalid request says nothing about the provider).
    public func record(provider: String, success: Bool) {
        buckets.withLock { buckets in
            let tokens = buckets[provider] ?? maxMilli
            buckets[provider] = success ? min(maxMilli, tokens + ratioMilli) : max(0, tokens - 1_000)
        }
    }

    /// Counts `outcome` on `provider` if it reflects health; returns whether it counted.
    @discardableResult
    public func record(provider: String, _ outcome: CallOutcome) -> Bool {
        guard outcome.reflectsModelHealth else { return false }
        record(provider: provider, success: outcome.success)
        return true
    }

    /// `provider`'s current tokens (`maxTokens` for a provider never seen).
    public func tokens(provider: String) -> Double {
        Double(buckets.withLock { $0[provider] ?? maxMilli }) / 1_000
    }

    /// Every provider seen so far and its tokens, for the `health` method.
    public func allTokens() -> [String: Double] {
        buckets.withLock { $0.mapValues { Double($0) / 1_000 } }
    }

    private static func milli(_ tokens: Double) -> Int64 {
        guard tokens.isFinite else { return tokens > 0 ? Int64.max / 4 : 0 }
        return Int64(min(tokens * 1_000, Double(Int64.max / 4)).rounded())
    }
}
