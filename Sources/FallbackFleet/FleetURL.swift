import Foundation
import PostgresNIO

/// Turns `postgres_url` into a connection configuration:
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`, or a Unix socket directory as libpq takes it:
/// `postgres://USER@/DATABASE?host=/run/postgresql` (port 5432 unless `?port=` or `:PORT` says otherwise).
/// TLS is not negotiated: the fleet's database is expected on a local socket or a trusted network.
enum FleetURL {
    static func configuration(_ secret: FleetSecretURL, connectTimeoutMs: Int64) throws(FleetError) -> PostgresConnection.Configuration {
        guard let parts = URLComponents(string: secret.reveal()) else { throw .badURL("not a URL") }
        guard let scheme = parts.scheme, scheme == "postgres" || scheme == "postgresql" else {
            throw .badURL("the scheme must be postgres:// or postgresql://")
        }
        guard let user = parts.user?.removingPercentEncoding, !user.isEmpty else { throw .badURL("a user name is required") }
        let password = parts.password?.removingPercentEncoding
        let path = parts.path.hasPrefix("/") ? String(parts.path.dropFirst()) : parts.path
        let database = path.isEmpty ? nil : path.removingPercentEncoding
        let query = Dictionary((parts.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        let port = parts.port ?? query["port"].flatMap { Int($0) } ?? 5432
        guard (1...65_535).contains(port) else { throw .badURL("the port must be from 1 to 65535") }
        var configuration: PostgresConnection.Configuration
        if let socketDirectory = query["host"], socketDirectory.hasPrefix("/") {
            configuration = .init(
                unixSocketPath: socketDirectory + "/.s.PGSQL.\(port)", username: user, password: password, database: database)
        } else {
            guard let host = parts.host, !host.isEmpty else { throw .badURL("a host (or ?host=/socket/dir) is required") }
            configuration = .init(host: host, port: port, username: user, password: password, database: database, tls: .disable)
        }
        configuration.options.connectTimeout = .milliseconds(connectTimeoutMs)
        return configuration
    }

    /// A failure described without the URL: PostgreSQL's code and message, or the kind of network error.
    static func describe(_ error: any Error) -> String {
        if let fleet = error as? FleetError { return fleet.description }
        if let psql = error as? PSQLError {
            var text = "\(psql.code)"
            if let state = psql.serverInfo?[.sqlState] { text += " \(state)" }
            if let message = psql.serverInfo?[.message] { text += ": \(message)" }
            if psql.serverInfo == nil, let underlying = psql.underlying { text += " (\(type(of: underlying)): \(underlying))" }
            return text
        }
        return "\(type(of: error))"
    }
}
