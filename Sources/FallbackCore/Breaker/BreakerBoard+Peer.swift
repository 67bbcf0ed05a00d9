/// Fleet events applied to the board. Each change is reported to `onTransition` marked with the
/// peer's host name, so the fleet publisher never echoes it back.
extension BreakerBoard {
    /// Applies `event` from a peer of the fleet; returns whether this sidecar's breaker changed.
    ///
    /// - `open`: opens here until the same wall-clock time (see ``CircuitBreaker/openByPeer(host:until:level:reason:at:)``);
    /// - `closed`: a peer's probe proved the model back: closes here;
    /// - `failure`: a peer's counted failure adds to the consecutive count here;
    /// - `half_open`, `isolated`, `misconfigured`, `parked`: not applied to breakers. A misconfiguration is
    ///   about the peer's own key or account, and an isolation is that operator's choice; both show in the
    ///   fleet view. Parking is the `ParkingBoard`'s.
    @discardableResult
    public func applyPeer(_ event: FleetEvent, at now: Moment) -> Bool {
        switch event.kind {
        case .open:
            guard let until = event.untilUnixMillis else { return false }
            let deadline = Moment.at(unixMillis: until, relativeTo: now)
            return withBreaker(event.model, causedBy: event.host) {
                $0.openByPeer(host: event.host, until: deadline, level: event.level, reason: event.reason, at: now)
            }
        case .closed:
            return withBreaker(event.model, causedBy: event.host) {
                $0.closeByPeer(host: event.host, closedAtUnixMillis: event.atUnixMillis, at: now)
            }
        case .failure:
            // A failure held back while the database was away says nothing about the model now.
            guard now.unixMillis - event.atUnixMillis <= FleetEvent.failureFreshnessMs else { return false }
            // Not marked as the peer's: a trip it completes here is this sidecar's, and is announced.
            return withBreaker(event.model) { $0.countPeerFailure(at: now) }
        case .halfOpen, .isolated, .misconfigured, .parked:
            return false
        }
    }
}

extension ParkingBoard {
    /// Applies a peer's Retry-After parking: parked here until the same wall-clock time.
    @discardableResult
    public func applyPeer(_ event: FleetEvent, at now: Moment) -> Bool {
        guard event.kind == .parked, let until = event.untilUnixMillis, until > now.unixMillis else { return false }
        return parkQuietly(event.model, until: Moment.at(unixMillis: until, relativeTo: now))
    }
}
