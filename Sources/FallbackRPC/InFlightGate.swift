import Synchronization

/// Counts requests in flight across the daemon, caps them, and refuses new ones while draining.
public final class InFlightGate: Sendable {
    private struct State {
        var inFlight = 0
        var draining = false
        var admitted = 0
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
        state.withLock { $0.inFlight = max(0, $0.inFlight - 1) }
    }

    public var inFlight: Int { state.withLock { $0.inFlight } }
    /// Requests admitted since start.
    public var admitted: Int { state.withLock { $0.admitted } }
    public var isDraining: Bool { state.withLock { $0.draining } }

    /// Refuses every request from now on; those in flight go on.
    public func startDraining() {
        state.withLock { $0.draining = true }
    }
}
