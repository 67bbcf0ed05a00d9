import FallbackCore
import FallbackFleet
import FallbackRPC
import FallbackStore

/// `fleet`: every sidecar's last heartbeat, its breakers that are not closed, and who opened what.
/// Read from the view the fleet service keeps: it never waits on PostgreSQL.
struct FleetMethod: Sendable {
    let link: FleetLink?
    let clock: any FallbackClock

    func register(in table: inout RPCMethodTable) {
        table.register("fleet", .immediate { report($0) })
    }

    func report(_ params: JSON?) -> Result<JSON, RPCError> {
        var all = false
        if let value = params?["all"], !value.isNull {
            guard let flag = value.boolValue else { return .failure(.invalidParams(field: "all", "must be true or false")) }
            all = flag
        }
        guard let link else { return .success(FleetReport(enabled: false).json) }
        let now = clock.now()
        let view = link.view
        let counters = view.counters
        let rows = Dictionary(grouping: view.breakers, by: \.host)
        let members = view.members.map { member in
            let breakers = (rows[member.host] ?? []).filter { all || $0.phase != BreakerPhase.closed.rawValue }.map { row in
                FleetReport.Breaker(
                    model: row.model, state: BreakerState(rawValue: row.phase), untilMs: row.untilUnixMillis.map { Int($0) },
                    openedBy: row.openedBy, reason: row.reason, misconfigured: row.misconfigured)
            }
            return FleetReport.Member(
                host: member.host, lastSeen: ISOTimestamp.string(unixMillis: member.lastSeenUnixMillis),
                lastSeenMs: Int(member.lastSeenUnixMillis), isSelf: member.host == view.host, breakers: breakers)
        }
        return .success(FleetReport(
            enabled: true, fleet: view.fleet, host: view.host, connected: counters.connected, lastError: counters.lastError,
            probeLeases: link.leases.held(at: now), eventsPublished: counters.eventsPublished,
            eventsReceived: counters.eventsReceived, eventsApplied: counters.eventsApplied, eventsDropped: counters.eventsDropped,
            reconnects: counters.reconnects, members: members
        ).json)
    }
}
