import Synchronization

/// The races waiting on a model's first attempts, so that when the model turns lagging (see
/// `CircuitBreaker.isLagging`) every call of it still out gets its hedge now instead of at its own
/// hedge time: they were sent before anyone knew, and are most likely as late as the others.
public final class LaggingWatch: Sendable {
    private struct Waiters {
        var next: UInt64 = 0
        var byModel: [String: [UInt64: @Sendable () -> Void]] = [:]
    }

    private let waiters = Mutex(Waiters())

    public init() {}

    /// Calls `wake` when `model` turns lagging, until `stop` with the returned token.
    public func watch(_ model: String, wake: @escaping @Sendable () -> Void) -> UInt64 {
        waiters.withLock { waiters in
            waiters.next &+= 1
            waiters.byModel[model, default: [:]][waiters.next] = wake
            return waiters.next
        }
    }

    /// Stops watching for the race `token` names.
    public func stop(_ model: String, token: UInt64) {
        waiters.withLock { waiters in
            waiters.byModel[model]?[token] = nil
            if waiters.byModel[model]?.isEmpty == true { waiters.byModel[model] = nil }
        }
    }

    /// `model` turned lagging: wakes every race watching it (outside the lock).
    public func wake(_ model: String) {
        let wakes = waiters.withLock { $0.byModel[model].map { Array($0.values) } ?? [] }
        for wake in wakes { wake() }
    }
}
