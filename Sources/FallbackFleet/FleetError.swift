/// Why the fleet link failed. Descriptions never carry the URL or its password.
public enum FleetError: Error, Sendable, CustomStringConvertible {
    /// `postgres_url` is not a `postgres://` or `postgresql://` URL we can use (the part that is wrong is named).
    case badURL(String)
    /// A statement took longer than `query_timeout_ms`.
    case timeout(String)
    /// The server refused or the connection dropped; `detail` is PostgreSQL's error code or the kind of failure.
    case database(String)

    public var description: String {
        switch self {
        case .badURL(let part): "postgres_url: \(part)"
        case .timeout(let what): "timed out: \(what)"
        case .database(let detail): "database: \(detail)"
        }
    }
}
