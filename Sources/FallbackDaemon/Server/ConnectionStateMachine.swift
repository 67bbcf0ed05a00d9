/// The life of one client connection, free of NIO so every transition is testable.
///
/// A connection closes only when the client closes it, or after an oversized line. When the
/// client half-closes (`socat` after stdin ends), replies still owed are delivered first.
struct ConnectionStateMachine {
    enum State: Equatable {
        /// Reading requests; `owed` replies are still running.
        case open(owed: Int)
        /// The client sent EOF; close once `owed` reaches zero.
        case inputClosed(owed: Int)
        /// Closing or closed: late replies are dropped.
        case closed
    }

    enum Action: Equatable {
        case none
        /// Flush what was written, then close the channel.
        case close
    }

    private(set) var state: State = .open(owed: 0)

    /// A deferred request started on this connection.
    mutating func deferredStarted() {
        if case .open(let owed) = state { state = .open(owed: owed + 1) }
    }

    /// A deferred reply is ready. Returns whether to write it, and what to do next.
    mutating func deferredFinished() -> (write: Bool, action: Action) {
        switch state {
        case .open(let owed):
            state = .open(owed: max(0, owed - 1))
            return (true, .none)
        case .inputClosed(let owed):
            let left = max(0, owed - 1)
            if left == 0 {
                state = .closed
                return (true, .close)
            }
            state = .inputClosed(owed: left)
            return (true, .none)
        case .closed:
            return (false, .none)
        }
    }

    /// The client closed its sending side.
    mutating func inputClosed() -> Action {
        guard case .open(let owed) = state else { return .none }
        if owed == 0 {
            state = .closed
            return .close
        }
        state = .inputClosed(owed: owed)
        return .none
    }

    /// A line exceeded the cap: answer it, then close.
    mutating func lineTooLong() -> Action {
        guard state != .closed else { return .none }
        state = .closed
        return .close
    }

    /// The channel went away (client vanished): every late reply is dropped.
    mutating func channelClosed() {
        state = .closed
    }

    /// Whether new lines are still read and answered.
    var isReading: Bool {
        if case .open = state { return true }
        return false
    }

    /// Whether lines owed to the client (notifications, replies) are still written.
    var isWriting: Bool {
        state != .closed
    }
}
