import Synchronization

/// The commit gate of one streaming attempt: it forwards the attempt's answer deltas to the
/// caller, and remembers whether any did (the first one commits the request to this model) and
/// how much was delivered. Once closed it refuses further deltas, which stops the attempt.
final class AttemptGate: DeltaReceiver {
    private struct State {
        var open = true
        var committed = false
        var delivered = StreamAccumulator()
        var firstAnswerAt: Moment?
    }

    let model: String
    private let sink: any StreamSink
    /// In a race, decides which attempt reaches the caller.
    private let arbiter: CommitArbiter?
    /// Times the first answer delta (time to first token); `nil` leaves it untimed.
    private let clock: (any FallbackClock)?
    private let state = Mutex(State())

    init(model: String, sink: any StreamSink, arbiter: CommitArbiter? = nil, clock: (any FallbackClock)? = nil) {
        self.model = model
        self.sink = sink
        self.arbiter = arbiter
        self.clock = clock
    }

    func receive(_ delta: ChatDelta) -> Bool {
        // Only the answer goes to the caller; the finish reason and usage follow from the router.
        let answer = ChatDelta(content: delta.content, toolCalls: delta.toolCalls, refusal: delta.refusal)
        guard answer.carriesAnswer else { return state.withLock { $0.open } }
        let now = clock?.now()
        let accepted = state.withLock { state -> Bool in
            if state.firstAnswerAt == nil { state.firstAnswerAt = now }
            guard state.open else { return false }
            if !state.committed, let arbiter, !arbiter.claim(model) {
                state.open = false
                return false
            }
            state.committed = true
            state.delivered.add(answer)
            return true
        }
        // Deltas of one attempt arrive in order from one reader, so forwarding outside the lock keeps it.
        if accepted { sink.delta(answer, model: model) }
        return accepted
    }

    /// Refuses every later delta (the attempt is over, or no longer wanted).
    func close() {
        state.withLock { $0.open = false }
    }

    /// Whether a delta of this attempt reached the caller.
    var committed: Bool { state.withLock { $0.committed } }

    /// When the model's first answer delta arrived (reached the caller or not).
    var firstAnswerAt: Moment? { state.withLock { $0.firstAnswerAt } }

    /// What reached the caller.
    var delivered: DeliveredPart {
        state.withLock { state in
            let calls = state.delivered.toolCalls
            return DeliveredPart(
                contentCharacters: state.delivered.contentCharacters, toolCalls: calls.count, toolCallOpen: !calls.isEmpty)
        }
    }
}
