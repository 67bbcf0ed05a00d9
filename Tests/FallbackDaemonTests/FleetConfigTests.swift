import FallbackFleet
import Foundation
import Testing

@testable import FallbackDaemon

@Suite("[fleet]: the optional PostgreSQL link")
struct FleetConfigTests {
    static let minimal = ConfigLoaderTests.minimal
    static let url = "postgres://fallbackd:s3cret-pw@db.internal:5432/fleet"

    func problems(_ text: String, environment: [String: String] = [:]) -> [ConfigError] {
        do {
            _ = try ConfigLoader.parse(text, environment: environment)
            return []
        } catch {
            return error.all
        }
    }

    @Test("no [fleet]: local-only, nothing else changes")
    func absent() throws {
        #expect(try ConfigLoader.parse(Self.minimal).fleet == nil)
    }

    @Test("the URL comes from the named variable; defaults for the rest; the secret never prints")
    func fromEnvironment() throws {
        let text = Self.minimal + """

            [fleet]
            postgres_url_env = "FLEET_URL"
            fleet_name = "checkout"
            host_name = "web-17"
            publish = ["breaker", "retry_after"]
            """
        let config = try ConfigLoader.parse(text, environment: ["FLEET_URL": Self.url + "\n"])
        let fleet = try #require(config.fleet)
        #expect(fleet.url.reveal() == Self.url)
        #expect(fleet.fleetName == "checkout" && fleet.hostName == "web-17")
        #expect(fleet.publish == [.breaker, .retryAfter])
        #expect(fleet.leaseMs == 3_000)
        #expect(fleet.channel == "fallbackd_fleet_checkout")
        for text in ["\(fleet)", String(describing: fleet.url), String(reflecting: fleet), "\(Mirror(reflecting: fleet.url).children.count)"] {
            #expect(!text.contains("s3cret"))
        }
    }

    @Test("an unset variable is a warning and leaves the fleet off")
    func unsetVariable() throws {
        let config = try ConfigLoader.parse(Self.minimal + "\n[fleet]\npostgres_url_env = \"NOPE\"\n")
        #expect(config.fleet == nil)
        #expect(config.warnings.contains { $0.contains("fleet.postgres_url_env") && $0.contains("local-only") })
    }

    @Test("an inline URL, an unknown key and an unknown topic are each reported, with did-you-mean")
    func problemsReported() {
        let text = Self.minimal + """

            [fleet]
            postgres_url = "\(Self.url)"
            fleet_nme = "x"
            publish = ["breakers"]
            """
        let found = problems(text)
        #expect(found.contains { $0.key == "fleet.postgres_url" && $0.problem.contains("postgres_url_env") })
        #expect(found.contains { $0.key == "fleet.fleet_nme" && $0.problem.contains("did you mean 'fleet_name'") })
        #expect(found.contains { $0.key == "fleet.publish[0]" && $0.problem.contains("did you mean 'breaker'") })
        #expect(!found.contains { $0.problem.contains("s3cret") })
    }

    @Test("a change of [fleet] waits for a restart")
    func restartOnly() throws {
        let env = ["FLEET_URL": Self.url]
        let old = try ConfigLoader.parse(Self.minimal + "\n[fleet]\npostgres_url_env = \"FLEET_URL\"\n", environment: env)
        let new = try ConfigLoader.parse(Self.minimal + "\n[fleet]\npostgres_url_env = \"FLEET_URL\"\nfleet_name = \"b\"\n", environment: env)
        #expect(ReloadDiff.restartOnly(old: old, new: new) == ["fleet"])
    }
}
