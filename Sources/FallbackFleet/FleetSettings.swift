import FallbackCore

/// The database URL: kept out of every description, log line, reply and metric.
public struct FleetSecretURL: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let value: String

    /// Wraps a URL; surrounding whitespace (a file's trailing newline) is dropped.
    public init(_ value: String) {
        self.value = value.trimmingWhitespace()
    }

    /// The raw URL, for connecting only. Never log or interpolate the result.
    public func reveal() -> String { value }

    public var isEmpty: Bool { value.isEmpty }
    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

/// `[fleet]`: share breaker trips, parkings and health with the other sidecars of a fleet through PostgreSQL.
public struct FleetSettings: Sendable, Hashable {
    /// What this sidecar publishes.
    public enum Topic: String, Sendable, Hashable, CaseIterable {
        case breaker
        case health
        case retryAfter = "retry_after"
    }

    /// `postgres_url_env` / `postgres_url_file`.
    public var url: FleetSecretURL
    /// `fleet_name`: sidecars with the same name share state; also names the `NOTIFY` channel.
    public var fleetName: String
    /// `host_name`: how this sidecar appears to the others (default: the machine's host name).
    public var hostName: String
    /// `publish`: what this sidecar tells the others (it always listens to everything).
    public var publish: Set<Topic>
    /// `lease_ms`: how long a probe lease lasts without renewal (a dead holder frees it after this).
    public var leaseMs: Int64
    /// `health_interval_ms`: how often health buckets are shared and read.
    public var healthIntervalMs: Int64
    /// `heartbeat_ms`: how often this sidecar says it is alive and re-reads the fleet's rows.
    public var heartbeatMs: Int64
    /// `query_timeout_ms`: a statement slower than this counts as the database being away.
    public var queryTimeoutMs: Int64
    /// `reconnect_max_ms`: the longest wait between reconnection attempts (backoff doubles up to it).
    public var reconnectMaxMs: Int64
    /// `outbox_size`: events held while the database is slow; the oldest are dropped beyond it.
    public var outboxSize: Int

    public static let defaultFleetName = "default"

    public init(
        url: FleetSecretURL, fleetName: String = Self.defaultFleetName, hostName: String, publish: Set<Topic> = Set(Topic.allCases),
        leaseMs: Int64 = 3_000, healthIntervalMs: Int64 = 2_000, heartbeatMs: Int64 = 1_000, queryTimeoutMs: Int64 = 2_000,
        reconnectMaxMs: Int64 = 10_000, outboxSize: Int = 1_024
    ) {
        self.url = url
        self.fleetName = fleetName
        self.hostName = hostName
        self.publish = publish
        self.leaseMs = leaseMs
        self.healthIntervalMs = healthIntervalMs
        self.heartbeatMs = heartbeatMs
        self.queryTimeoutMs = queryTimeoutMs
        self.reconnectMaxMs = reconnectMaxMs
        self.outboxSize = outboxSize
    }

    /// The `LISTEN`/`NOTIFY` channel: `fallbackd_fleet_` and the fleet name reduced to `[a-z0-9_]`, at most 63 bytes.
    public var channel: String {
        let cleaned = fleetName.lowercased().unicodeScalars.map { scalar -> Character in
            ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) ? Character(scalar) : "_"
        }
        return String(("fallbackd_fleet_" + String(cleaned)).prefix(63))
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0.isWhitespace || $0.isNewline }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
