extension CircuitBreaker {
    /// Late calls, started after the newest success, that make a model lagging.
    static let laggingCalls = 2

    /// A call still out has passed the point its router starts a hedge at (the chain's hedge rule,
    /// or overdue). While it stays out it counts as a timeout for the timeout-rate rule, as the
    /// newest call, and the rule is checked now; when it ends, its outcome replaces it. Returns
    /// whether the model is lagging after it (see ``isLagging``).
    mutating func markLate(_ permit: BreakerPermit, at now: Moment) -> Bool {
        refresh(at: now)
        guard phase == .closed, permit.generation == generation, permit.callID != 0,
            outstanding[permit.callID] != nil, !countedHung.contains(permit.callID)
        else { return false }
        late.insert(permit.callID)
        if let rule = tripRule() {
            trip(at: now, reason: rule.reason, timeouts: rule.timeouts)
            return false
        }
        return isLagging
    }

    /// At least ``laggingCalls`` calls are late, each started after the newest call that succeeded:
    /// the model has stopped answering in time, not just one unlucky call (a success of a call
    /// that started later says the model still answers). The router sends new requests elsewhere
    /// first and hedges the calls still out.
    var isLagging: Bool {
        guard late.count >= Self.laggingCalls else { return false }
        var found = 0
        for id in late {
            guard let start = outstanding[id] else { continue }
            if let lastSuccessStart, start <= lastSuccessStart { continue }
            found += 1
        }
        return found >= Self.laggingCalls
    }
}
