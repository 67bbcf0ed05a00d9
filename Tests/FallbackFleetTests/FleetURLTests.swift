import Testing

@testable import FallbackFleet

@Suite("postgres_url: parsed without ever showing the password")
struct FleetURLTests {
    @Test("a TCP URL: user, password, host, port and database")
    func tcp() throws {
        let config = try FleetURL.configuration(FleetSecretURL("postgres://fleet:p%40ss@db.internal:6543/fallbackd\n"), connectTimeoutMs: 500)
        #expect(config.host == "db.internal")
        #expect(config.port == 6543)
        #expect(config.username == "fleet")
        #expect(config.password == "p@ss")
        #expect(config.database == "fallbackd")
        #expect(config.unixSocketPath == nil)
    }

    @Test("a Unix socket directory as libpq takes it, port defaulting to 5432")
    func unixSocket() throws {
        let config = try FleetURL.configuration(FleetSecretURL("postgresql://fleet@/db?host=/run/postgresql"), connectTimeoutMs: 500)
        #expect(config.unixSocketPath == "/run/postgresql/.s.PGSQL.5432")
        #expect(config.password == nil)
        let other = try FleetURL.configuration(FleetSecretURL("postgres://fleet@/db?host=/tmp/pg&port=5433"), connectTimeoutMs: 500)
        #expect(other.unixSocketPath == "/tmp/pg/.s.PGSQL.5433")
    }

    @Test("unusable URLs name what is wrong and never echo the URL")
    func badURLs() {
        for text in ["mysql://u:hunter2@h/db", "postgres://h:5432/db", "postgres://u:hunter2@/db", "postgres://u:hunter2@h:99999/db", "::"] {
            #expect(throws: FleetError.self) { try FleetURL.configuration(FleetSecretURL(text), connectTimeoutMs: 500) }
            do {
                _ = try FleetURL.configuration(FleetSecretURL(text), connectTimeoutMs: 500)
            } catch {
                #expect(!error.description.contains("hunter2"))
                #expect(!FleetURL.describe(error).contains("hunter2"))
            }
        }
        #expect("\(FleetSecretURL("postgres://u:hunter2@h/db"))" == "<redacted>")
    }

    @Test("the channel is the fleet name reduced to a safe identifier")
    func channel() {
        let settings = FleetSettings(url: FleetSecretURL("x"), fleetName: "Checkout-API; DROP", hostName: "h")
        #expect(settings.channel == "fallbackd_fleet_checkout_api__drop")
        let long = FleetSettings(url: FleetSecretURL("x"), fleetName: String(repeating: "a", count: 100), hostName: "h")
        #expect(long.channel.utf8.count == 63)
    }
}
