#if canImport(Glibc)
import Glibc
#endif
import FallbackFleet

/// `[fleet]`: share breakers, parkings and health with the other sidecars through PostgreSQL.
/// Absent, the daemon is local-only as always. The URL comes from `postgres_url_env` or
/// `postgres_url_file` (it carries a password), never inline.
enum FleetConfigParser {
    static func parse(_ top: inout TOMLReader, environment: [String: String], warnings: inout [String]) throws(ConfigError) -> FleetSettings? {
        guard var reader = try top.subtable("fleet") else { return nil }
        if reader.value("postgres_url") != nil {
            try reader.report(ConfigError(
                key: reader.key("postgres_url"),
                "the URL carries a password: give it through postgres_url_env (a variable) or postgres_url_file (a file)"))
        }
        let secret = try SecretLoader.load(
            &reader, envKey: "postgres_url_env", fileKey: "postgres_url_file", what: "the fleet's database URL",
            environment: environment, warnings: &warnings, consequence: "; the fleet is off (local-only)")
        let fleetName = try reader.string("fleet_name") ?? FleetSettings.defaultFleetName
        let hostName = try reader.string("host_name") ?? localHostName()
        var publish = Set(FleetSettings.Topic.allCases)
        if let topics = try reader.stringArray("publish") {
            publish = []
            for (index, name) in topics.enumerated() {
                guard let topic = FleetSettings.Topic(rawValue: name) else {
                    let known = FleetSettings.Topic.allCases.map(\.rawValue)
                    try reader.report(ConfigError(
                        key: "\(reader.key("publish"))[\(index)]", "'\(name)' is not one of \(known.joined(separator: ", "))"
                            + Suggestion.hint(for: name, in: known)))
                    continue
                }
                publish.insert(topic)
            }
        }
        let leaseMs = try reader.int("lease_ms", min: 600, max: 600_000) ?? 3_000
        let healthMs = try reader.int("health_interval_ms", min: 100) ?? 2_000
        let heartbeatMs = try reader.int("heartbeat_ms", min: 100) ?? 1_000
        let queryTimeoutMs = try reader.int("query_timeout_ms", min: 50) ?? 2_000
        let reconnectMaxMs = try reader.int("reconnect_max_ms", min: 100) ?? 10_000
        let outboxSize = try reader.int("outbox_size", min: 1, max: 1_000_000) ?? 1_024
        try reader.rejectUnknownKeys()
        if fleetName.isEmpty { throw ConfigError(key: reader.key("fleet_name"), "must not be empty") }
        if hostName.isEmpty { throw ConfigError(key: reader.key("host_name"), "must not be empty") }
        if secret == nil, reader.table["postgres_url_env"] == nil, reader.table["postgres_url_file"] == nil {
            throw ConfigError(key: reader.key("postgres_url_env"), "is required (or postgres_url_file): where the fleet's database URL is")
        }
        guard let secret else { return nil }
        return FleetSettings(
            url: FleetSecretURL(secret.reveal()), fleetName: fleetName, hostName: hostName, publish: publish,
            leaseMs: Int64(leaseMs), healthIntervalMs: Int64(healthMs), heartbeatMs: Int64(heartbeatMs),
            queryTimeoutMs: Int64(queryTimeoutMs), reconnectMaxMs: Int64(reconnectMaxMs), outboxSize: outboxSize)
    }

    /// The machine's host name (`gethostname`), or `localhost` when it has none.
    static func localHostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }
}
