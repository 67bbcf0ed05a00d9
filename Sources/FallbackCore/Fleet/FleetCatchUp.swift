/// What a sidecar coming back to the fleet (start, or reconnect after the database was away) must
/// apply from the state rows to catch up with what peers decided meanwhile.
public enum FleetCatchUp {
    /// The peer events the rows imply for this sidecar: each peer's own open (not one it took from
    /// another peer) becomes an open here; a breaker here opened by a peer whose row now says closed
    /// becomes that peer's close.
    public static func events(rows: [FleetBreakerRow], local: [String: BreakerStatus], host: String) -> [FleetEvent] {
        var events: [FleetEvent] = []
        for row in rows where row.host != host {
            if row.phase == BreakerPhase.open.rawValue, row.openedBy == nil, !row.misconfigured, let until = row.untilUnixMillis {
                events.append(FleetEvent(
                    kind: .open, host: row.host, model: row.model, atUnixMillis: row.updatedUnixMillis, untilUnixMillis: until,
                    reason: row.reason))
            }
            if row.phase == BreakerPhase.closed.rawValue, let status = local[row.model], status.openedByPeer == row.host {
                events.append(FleetEvent(kind: .closed, host: row.host, model: row.model, atUnixMillis: row.updatedUnixMillis))
            }
        }
        return events
    }
}
