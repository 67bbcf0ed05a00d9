import FallbackCore
import Logging
import PostgresNIO

/// The fleet's statements on one connection, each bounded by `query_timeout_ms`: a statement that
/// takes longer closes the connection (so nothing waits on it) and fails the session.
struct FleetDatabase: Sendable {
    let connection: PostgresConnection
    let settings: FleetSettings
    let logger: Logger

    var fleet: String { settings.fleetName }
    var host: String { settings.hostName }

    /// Runs `body`, closing the connection and throwing ``FleetError/timeout(_:)`` when it takes too long.
    func timed<T: Sendable>(_ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let limit = settings.queryTimeoutMs
        let connection = self.connection
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: .milliseconds(limit))
                // Fails whatever is in flight on it, so the group can end.
                connection.close().whenComplete { _ in }
                throw FleetError.timeout(what)
            }
            defer { group.cancelAll() }
            while let next = try await group.next() {
                if let value = next { return value }
            }
            throw FleetError.timeout(what)
        }
    }

    func run(_ what: String, _ query: PostgresQuery) async throws {
        let connection = self.connection
        let logger = self.logger
        _ = try await timed(what) { () async throws -> Bool in
            try await connection.query(query, logger: logger)
            return true
        }
    }

    func upsertBreaker(_ row: FleetBreakerRow) async throws {
        try await run("upsert breaker", """
            INSERT INTO fallbackd_fleet_breakers
                (fleet, host, model, phase, until_ms, level, opened_by, reason, misconfigured, updated_ms)
            VALUES (\(fleet), \(row.host), \(row.model), \(row.phase), \(row.untilUnixMillis), 0, \(row.openedBy),
                \(row.reason), \(row.misconfigured), \(row.updatedUnixMillis))
            ON CONFLICT (fleet, host, model) DO UPDATE SET phase = EXCLUDED.phase, until_ms = EXCLUDED.until_ms,
                opened_by = EXCLUDED.opened_by, reason = EXCLUDED.reason, misconfigured = EXCLUDED.misconfigured,
                updated_ms = EXCLUDED.updated_ms
            """)
    }

    func upsertParking(_ event: FleetEvent) async throws {
        let until = event.untilUnixMillis ?? event.atUnixMillis
        try await run("upsert parking", """
            INSERT INTO fallbackd_fleet_parking (fleet, model, host, until_ms) VALUES (\(fleet), \(event.model), \(host), \(until))
            ON CONFLICT (fleet, model) DO UPDATE SET host = EXCLUDED.host, until_ms = EXCLUDED.until_ms
            WHERE fallbackd_fleet_parking.until_ms < EXCLUDED.until_ms
            """)
    }

    func notify(_ event: FleetEvent) async throws {
        try await run("notify", "SELECT pg_notify(\(settings.channel), \(event.payload))")
    }

    /// Takes or renews `model`'s probe lease; whether this sidecar holds it now.
    func takeLease(_ model: String) async throws -> Bool {
        let seconds = Double(settings.leaseMs) / 1000
        let query: PostgresQuery = """
            INSERT INTO fallbackd_fleet_leases (fleet, model, holder, expires_at)
            VALUES (\(fleet), \(model), \(host), now() + make_interval(secs => \(seconds)))
            ON CONFLICT (fleet, model) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
            WHERE fallbackd_fleet_leases.holder = EXCLUDED.holder OR fallbackd_fleet_leases.expires_at < now()
            RETURNING holder
            """
        let connection = self.connection
        let logger = self.logger
        return try await timed("take lease") {
            var granted = false
            for try await _ in try await connection.query(query, logger: logger) { granted = true }
            return granted
        }
    }

    func releaseLease(_ model: String) async throws {
        try await run("release lease", "DELETE FROM fallbackd_fleet_leases WHERE fleet = \(fleet) AND model = \(model) AND holder = \(host)")
    }

    func heartbeat(startedMs: Int64, nowMs: Int64) async throws {
        try await run("heartbeat", """
            INSERT INTO fallbackd_fleet_members (fleet, host, started_ms, last_seen_ms) VALUES (\(fleet), \(host), \(startedMs), \(nowMs))
            ON CONFLICT (fleet, host) DO UPDATE SET started_ms = EXCLUDED.started_ms, last_seen_ms = EXCLUDED.last_seen_ms
            """)
    }

    func upsertHealth(model: String, buckets: String, nowMs: Int64) async throws {
        try await run("upsert health", """
            INSERT INTO fallbackd_fleet_health (fleet, host, model, buckets, updated_ms) VALUES (\(fleet), \(host), \(model), \(buckets), \(nowMs))
            ON CONFLICT (fleet, host, model) DO UPDATE SET buckets = EXCLUDED.buckets, updated_ms = EXCLUDED.updated_ms
            """)
    }
}
