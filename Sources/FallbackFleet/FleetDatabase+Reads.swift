import FallbackCore
import PostgresNIO

extension FleetDatabase {
    /// Every member and every breaker row of the fleet.
    func fleetRows() async throws -> ([FleetMember], [FleetBreakerRow]) {
        let connection = self.connection
        let logger = self.logger
        let fleet = self.fleet
        return try await timed("read fleet") {
            var members: [FleetMember] = []
            let memberRows = try await connection.query(
                "SELECT host, started_ms, last_seen_ms FROM fallbackd_fleet_members WHERE fleet = \(fleet)", logger: logger)
            for try await (host, started, seen) in memberRows.decode((String, Int64, Int64).self) {
                members.append(FleetMember(host: host, lastSeenUnixMillis: seen, startedUnixMillis: started))
            }
            var breakers: [FleetBreakerRow] = []
            let breakerRows = try await connection.query(
                """
                SELECT host, model, phase, until_ms, opened_by, reason, misconfigured, updated_ms
                FROM fallbackd_fleet_breakers WHERE fleet = \(fleet)
                """, logger: logger)
            for try await (host, model, phase, until, openedBy, reason, misconfigured, updated) in breakerRows.decode(
                (String, String, String, Int64?, String?, String?, Bool, Int64).self)
            {
                breakers.append(FleetBreakerRow(
                    host: host, model: model, phase: phase, untilUnixMillis: until, openedBy: openedBy, reason: reason,
                    misconfigured: misconfigured, updatedUnixMillis: updated))
            }
            return (members, breakers)
        }
    }

    /// Parkings that have not ended by `nowMs`.
    func parkings(nowMs: Int64) async throws -> [FleetEvent] {
        let connection = self.connection
        let logger = self.logger
        let fleet = self.fleet
        return try await timed("read parkings") {
            var events: [FleetEvent] = []
            let rows = try await connection.query(
                "SELECT model, host, until_ms FROM fallbackd_fleet_parking WHERE fleet = \(fleet) AND until_ms > \(nowMs)",
                logger: logger)
            for try await (model, host, until) in rows.decode((String, String, Int64).self) {
                events.append(FleetEvent(kind: .parked, host: host, model: model, atUnixMillis: nowMs, untilUnixMillis: until))
            }
            return events
        }
    }

    /// Every peer's health buckets written since `sinceMs`: host -> model -> buckets.
    func peerHealth(sinceMs: Int64) async throws -> [String: [String: [HealthBucket]]] {
        let connection = self.connection
        let logger = self.logger
        let fleet = self.fleet
        let host = self.host
        return try await timed("read health") {
            var result: [String: [String: [HealthBucket]]] = [:]
            let rows = try await connection.query(
                """
                SELECT host, model, buckets FROM fallbackd_fleet_health
                WHERE fleet = \(fleet) AND host <> \(host) AND updated_ms > \(sinceMs)
                """, logger: logger)
            for try await (peer, model, buckets) in rows.decode((String, String, String).self) {
                result[peer, default: [:]][model] = HealthBucket.parseCompact(buckets)
            }
            return result
        }
    }
}
