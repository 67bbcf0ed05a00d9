import Synchronization

/// Counts requests in flight across the daemon, caps them, and refuses new ones while draining.
public final class InFlightGate: Sendable {
    private struct State {
        var inFlight = 0
        var draining = false
        var admitted = 0
        /// Callers of `waitUntilIdle`, resumed when `inFlight` reaches zero or they are cancelled.
        var idleWaiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
    }

    public let maxInFlight: Int
    private let state = Mutex(State())

    public init(maxInFlight: Int) {
        self.maxInFlight = maxInFlight
    }

    /// Admits one request, or says why not.
    public func enter() -> RPCError? {
        state.withLock { state in
            if state.draining {
                return RPCError(code: RPCErrorCode.shuttingDown, message: "fallbackd is shutting down")
            }
            guard state.inFlight < maxInFlight else {
                return RPCError(
                    code: RPCErrorCode.overloaded, message: "too many requests in flight",
                    data: ["in_flight": .int(state.inFlight), "max_in_flight": .int(maxInFlight)]
                )
            }
            state.inFlight += 1
            state.admitted += 1
            return nil
        }
    }

    public func leave() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.inFlight = max(0, state.inFlight - 1)
            guard state.inFlight == 0, !state.idleWaiters.isEmpty else { return [] }
            defer { state.idleWaiters = [:] }
            return Array(state.idleWaiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    public var inFlight: Int { state.withLock { $0.inFlight } }
    /// Requests admitted since start.
    public var admitted: Int { state.withLock { $0.admitted } }
    public var isDraining: Bool { state.withLock { $0.draining } }

    /// Refuses every request from now on; those in flight go on.
    public func startDraining() {
        state.withLock { $0.draining = true }
    }

    /// Returns once no request is in flight (at once when none is), or when the waiting task is
    /// cancelled: race it against a timer to bound the wait.
    public func waitUntilIdle() async {
        let ticket = state.withLock { state -> UInt64 in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.inFlight == 0 || Task.isCancelled { return true }
                    state.idleWaiters[ticket] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.idleWaiters.removeValue(forKey: ticket) }?.resume()
        }
    }
}
