/// What a fleet peer's breaker event does to this sidecar's breaker: pure decisions on the value type,
/// every time given as a `Moment` (the peer's wall-clock times are converted through `now`).
extension CircuitBreaker {
    /// A peer tripped: open here until the same wall-clock time, marked as the peer's.
    ///
    /// Ignored (false) when isolated, when the peer's period is already over, or when this breaker is
    /// already open at least as long. The level follows the peer's when higher, so re-trips grow alike.
    /// `trips` is not counted: the trip was the peer's.
    @discardableResult
    public mutating func openByPeer(host: String, until: Moment, level peerLevel: Int, reason: String?, at now: Moment) -> Bool {
        refresh(at: now)
        guard phase != .isolated, now < until else { return false }
        if phase == .open, let current = openUntil, current >= until { return false }
        transition(to: .open)
        openedAt = now
        openUntil = until
        level = min(max(level, peerLevel), policy.maxLevel)
        misconfigured = false
        lastTripReason = "opened by \(host)" + (reason.map { ": \($0)" } ?? "")
        peerHost = host
        return true
    }

    /// A peer's counted failure while closed: it adds to the consecutive count here (the trip rule
    /// then counts failures across the fleet since this sidecar's last success) and trips when the rule
    /// is met; such a trip is this sidecar's own. The window and its rates stay local.
    @discardableResult
    public mutating func countPeerFailure(at now: Moment) -> Bool {
        refresh(at: now)
        guard phase == .closed else { return false }
        consecutiveFailures += 1
        lastFailureAt = now
        let rule = policy.consecutiveFailures
        if rule > 0, consecutiveFailures >= rule {
            trip(at: now, reason: "\(consecutiveFailures) consecutive failures across the fleet", timeouts: false)
        }
        return true
    }

    /// A peer's probe succeeded (or its operator reset the model): an open or half-open breaker here
    /// closes too. A local trip that came after the peer's close stands: it is newer news.
    @discardableResult
    public mutating func closeByPeer(host: String, closedAtUnixMillis: Int64, at now: Moment) -> Bool {
        refresh(at: now)
        guard phase == .open || phase == .halfOpen else { return false }
        if peerHost == nil, misconfigured { return false }
        if peerHost == nil, let openedAt, openedAt.unixMillis > closedAtUnixMillis { return false }
        close(at: now)
        return true
    }
}

extension Moment {
    /// The moment at wall-clock `unixMillis`, its monotonic reading placed relative to `now`'s: how a
    /// time another host announced becomes a deadline here.
    public static func at(unixMillis: Int64, relativeTo now: Moment) -> Moment {
        CircuitBreaker.moment(unixMillis: unixMillis, relativeTo: now)
    }
}
