import FallbackCore
import PostgresNIO

extension FleetService {
    /// After (re)connecting: writes this sidecar's breaker rows as they stand now (events it could not
    /// publish while away are summed up in them), then catches up with what peers wrote meanwhile:
    /// their opens, their closes of what they had opened here, and parkings still running.
    func resync(_ db: FleetDatabase) async throws {
        let now = clock.now()
        if settings.publish.contains(.breaker) {
            for (model, status) in breakers.statuses(at: now) {
                try await db.upsertBreaker(FleetBreakerRow(
                    host: settings.hostName, model: model, phase: status.phase.rawValue, untilUnixMillis: status.openUntil?.unixMillis,
                    openedBy: status.openedByPeer, reason: status.phase == .closed ? nil : status.lastTripReason,
                    misconfigured: status.misconfigured, updatedUnixMillis: now.unixMillis))
                // A trip of ours the peers may have missed while we were away: announce it again
                // (a peer already open as long ignores it).
                if status.phase == .open, status.openedByPeer == nil, !status.misconfigured, let until = status.openUntil {
                    try await db.notify(FleetEvent(
                        kind: .open, host: settings.hostName, model: model, atUnixMillis: now.unixMillis,
                        untilUnixMillis: until.unixMillis, level: status.level, reason: status.lastTripReason))
                }
            }
        }
        let (members, rows) = try await db.fleetRows()
        link.view.refresh(members: members, breakers: rows)
        for event in FleetCatchUp.events(rows: rows, local: breakers.statuses(at: clock.now()), host: settings.hostName) {
            apply(event)
        }
        for event in try await db.parkings(nowMs: clock.now().unixMillis) where event.host != settings.hostName {
            apply(event)
        }
        let opened = rows.filter { $0.host != settings.hostName && $0.phase == "open" && $0.openedBy == nil }.count
        logger.info(
            "fleet resynced", metadata: ["fleet.members": "\(members.count)", "fleet.peer_opens": "\(opened)"])
    }
}
