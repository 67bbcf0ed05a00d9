import PostgresNIO

/// The fleet's tables, shared by every fleet in the database (each row names its fleet). Created at
/// connect when missing, under an advisory lock so sidecars starting together do not race.
///
/// - `fallbackd_fleet_members`: one row per sidecar, its heartbeat;
/// - `fallbackd_fleet_breakers`: one row per sidecar and model, its breaker (who opened it, until when);
/// - `fallbackd_fleet_parking`: per model, the latest Retry-After end any sidecar heard;
/// - `fallbackd_fleet_health`: per sidecar and model, its health buckets in compact form;
/// - `fallbackd_fleet_leases`: per model, which sidecar may probe it and until when (the database's clock).
enum FleetSchema {
    static let version = 1

    static let statements: [String] = [
        """
        CREATE TABLE IF NOT EXISTS fallbackd_fleet_members (
            fleet text NOT NULL, host text NOT NULL, started_ms bigint NOT NULL, last_seen_ms bigint NOT NULL,
            PRIMARY KEY (fleet, host))
        """,
        """
        CREATE TABLE IF NOT EXISTS fallbackd_fleet_breakers (
            fleet text NOT NULL, host text NOT NULL, model text NOT NULL, phase text NOT NULL, until_ms bigint,
            level integer NOT NULL DEFAULT 0, opened_by text, reason text, misconfigured boolean NOT NULL DEFAULT false,
            updated_ms bigint NOT NULL, PRIMARY KEY (fleet, host, model))
        """,
        """
        CREATE TABLE IF NOT EXISTS fallbackd_fleet_parking (
            fleet text NOT NULL, model text NOT NULL, host text NOT NULL, until_ms bigint NOT NULL,
            PRIMARY KEY (fleet, model))
        """,
        """
        CREATE TABLE IF NOT EXISTS fallbackd_fleet_health (
            fleet text NOT NULL, host text NOT NULL, model text NOT NULL, buckets text NOT NULL, updated_ms bigint NOT NULL,
            PRIMARY KEY (fleet, host, model))
        """,
        """
        CREATE TABLE IF NOT EXISTS fallbackd_fleet_leases (
            fleet text NOT NULL, model text NOT NULL, holder text NOT NULL, expires_at timestamptz NOT NULL,
            PRIMARY KEY (fleet, model))
        """,
    ]

    /// Creates the tables that are missing, in one transaction holding the schema's advisory lock.
    static func create(on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("BEGIN", logger: logger)
        do {
            try await connection.query("SELECT pg_advisory_xact_lock(7261001)", logger: logger)
            for statement in statements {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
            try await connection.query("COMMIT", logger: logger)
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
    }
}
