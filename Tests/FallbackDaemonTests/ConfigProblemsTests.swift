import Foundation
import Testing

@testable import FallbackDaemon

@Suite("Config problems, paths and apps")
struct ConfigProblemsTests {
    static let minimal = ConfigLoaderTests.minimal

    func problems(_ text: String) -> [ConfigError] {
        do {
            _ = try ConfigLoader.parse(text)
            return []
        } catch {
            return error.all
        }
    }

    @Test("every problem of a file is reported, not only the first")
    func everyProblem() {
        let text = """
            [daemon]
            flush_intervl_ms = 100
            [providers.sim]
            kind = "simulated"
            [providers.bad]
            kind = "openia"
            [models.a]
            provider = "sim"
            model_id = "a-1"
            [models.b]
            provider = "simm"
            model_id = "b-1"
            [models.c]
            provider = "bad"
            model_id = "c-1"
            [chains]
            default = ["a", "aa"]
            """
        let found = problems(text)
        let keys = found.map(\.key)
        #expect(keys.contains("daemon.flush_intervl_ms"))
        #expect(keys.contains("providers.bad.kind"))
        #expect(keys.contains("models.b.provider"))
        #expect(keys.contains("chains.default"))
        // The model of a provider that failed is not blamed a second time.
        #expect(!keys.contains("models.c.provider"))
        #expect(found.first { $0.key == "daemon.flush_intervl_ms" }?.problem.contains("did you mean 'flush_interval_ms'") == true)
        #expect(found.first { $0.key == "models.b.provider" }?.problem.contains("did you mean 'sim'") == true)
        #expect(found.first { $0.key == "chains.default" }?.problem.contains("did you mean 'a'") == true)
    }

    @Test("a file with one problem reports exactly it")
    func oneProblem() {
        let found = problems(Self.minimal + "\n[daemon]\nlog_level = \"loud\"")
        #expect(found.count == 1)
        #expect(found.first?.key == "daemon.log_level")
    }

    @Test("did you mean: the closest name within a small distance, nothing when far")
    func suggestions() {
        #expect(Suggestion.closest(to: "open_mss", in: ["open_ms", "max_open_ms"]) == "open_ms")
        #expect(Suggestion.closest(to: "gpt4o", in: ["gpt-4o", "gpt-4o-mini"]) == "gpt-4o")
        #expect(Suggestion.closest(to: "zzzzzz", in: ["open_ms"]) == nil)
        #expect(Suggestion.hint(for: "x", in: []).isEmpty)
    }

    @Test("default paths: systemd's directories, XDG for a user, /etc and /var/lib for root")
    func defaultPaths() {
        let user: [String: String] = ["HOME": "/home/u"]
        #expect(DefaultPaths.database(environment: user, uid: 1000) == "/home/u/.local/state/fallbackd/fallbackd.sqlite")
        #expect(DefaultPaths.database(environment: ["XDG_STATE_HOME": "/s"], uid: 1000) == "/s/fallbackd/fallbackd.sqlite")
        #expect(DefaultPaths.database(environment: ["STATE_DIRECTORY": "/var/lib/fallbackd"], uid: 999) == "/var/lib/fallbackd/fallbackd.sqlite")
        #expect(DefaultPaths.database(environment: user, uid: 0) == "/var/lib/fallbackd/fallbackd.sqlite")
        #expect(DefaultPaths.configCandidates(environment: user, uid: 1000) == ["/home/u/.config/fallbackd/fallbackd.toml", "/etc/fallbackd/fallbackd.toml"])
        #expect(DefaultPaths.configCandidates(environment: ["FALLBACKD_CONFIG": "/c.toml"], uid: 0) == ["/c.toml", "/etc/fallbackd/fallbackd.toml"])
        #expect(DefaultPaths.socket(environment: ["RUNTIME_DIRECTORY": "/run/fallbackd"], uid: 999) == "/run/fallbackd/fallbackd.sock")
        #expect(DefaultPaths.socket(environment: ["XDG_RUNTIME_DIR": "/run/user/1000"], uid: 1000) == "/run/user/1000/fallbackd.sock")
        #expect(DefaultPaths.socket(environment: [:], uid: 0) == "/run/fallbackd/fallbackd.sock")
        #expect(DefaultPaths.socket(environment: [:], uid: 1000) == "/tmp/fallbackd-1000.sock")
        #expect(DefaultPaths.resolve("calls.sqlite", relativeTo: "/etc/fallbackd/fallbackd.toml") == "/etc/fallbackd/calls.sqlite")
        #expect(DefaultPaths.resolve("/abs.sqlite", relativeTo: "/etc/fallbackd/fallbackd.toml") == "/abs.sqlite")
    }

    @Test("relative paths in a file are relative to the file, not the working directory")
    func relativeToTheFile() throws {
        let config = try ConfigLoader.parse(
            Self.minimal + "\n[daemon]\ndatabase = \"calls.sqlite\"\nsocket = \"run/f.sock\"", configFile: "/srv/app/fallbackd.toml")
        #expect(config.databasePath == "/srv/app/calls.sqlite")
        #expect(config.socketPath == "/srv/app/run/f.sock")
    }

    @Test("socket_mode, log_format and the facade's address are checked")
    func daemonAndFacadeKeys() throws {
        let config = try ConfigLoader.parse(
            Self.minimal + "\n[daemon]\nsocket_mode = \"0660\"\nlog_format = \"json\"\n[facade]\nlisten = \"127.0.0.1:0\"")
        #expect(config.socketMode == 0o660)
        #expect(config.logFormat == .json)
        #expect(config.facade.listen == HostPort("127.0.0.1:0"))
        #expect(problems(Self.minimal + "\n[daemon]\nsocket_mode = \"0440\"").first?.key == "daemon.socket_mode")
        #expect(problems(Self.minimal + "\n[facade]\nlisten = \"0.0.0.0:8787\"").first?.key == "facade.listen")
        #expect(problems(Self.minimal + "\n[facade]\nlisten = \"0.0.0.0:8787\"\nallow_remote = true").first?.key == "facade.allow_remote")
        #expect(HostPort("[::1]:8787")?.isLoopback == true)
        #expect(HostPort("10.0.0.1:80")?.isLoopback == false)
        #expect(HostPort("nope") == nil)
        #expect(FacadeConfig().resolvedSocketPath(rpcSocket: "/run/f/fallbackd.sock") == "/run/f/fallbackd-http.sock")
    }

    @Test("a key file group or others can read is refused unless the table allows it")
    func keyFileMode() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fbd-key-\(UInt32.random(in: 0...UInt32.max))").path
        try "sk-test\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        chmod(path, 0o644)
        let provider = "\n[providers.oa]\nkind = \"openai\"\napi_key_file = \"\(path)\"\n"
        let refused = problems(Self.minimal + provider)
        #expect(refused.first?.key == "providers.oa.api_key_file")
        #expect(refused.first?.problem.contains("chmod 600") == true)
        #expect(problems(Self.minimal + provider + "allow_shared_key_file = true\n").isEmpty)
        chmod(path, 0o600)
        let config = try ConfigLoader.parse(Self.minimal + provider)
        #expect(config.providers.first { $0.name == "oa" }?.apiKey?.reveal() == "sk-test")
    }

    @Test("[apps.NAME]: rules match by uid and executable; tasks must name chains")
    func apps() throws {
        let config = try ConfigLoader.parse(Self.minimal + """

            [apps.billing]
            uid = [1001, 1002]
            daily_budget_usd = 2.5
            tasks = ["default"]
            [apps.worker]
            executable = "python3"
            """)
        let rules = AppRules(config.apps)
        #expect(config.apps.budgets == ["billing": 2.5])
        #expect(rules.name(for: .init(uid: 1002, gid: 0, pid: 1, executable: "node")) == "billing")
        #expect(rules.name(for: .init(uid: 5, gid: 0, pid: 1, executable: "python3")) == "worker")
        #expect(rules.name(for: .init(uid: 5, gid: 0, pid: 1, executable: "ruby")) == "ruby")
        #expect(rules.name(for: .init(uid: 5, gid: 0, pid: 0, executable: nil)) == "uid-5")
        #expect(rules.name(for: nil) == nil)
        #expect(problems(Self.minimal + "\n[apps.x]\ndaily_budget_usd = 1.0").first?.key == "apps.x")
        let typo = problems(Self.minimal + "\n[apps.x]\nuid = 1\ntasks = [\"defualt\"]")
        #expect(typo.first?.key == "apps.x.tasks[0]")
        #expect(typo.first?.problem.contains("did you mean 'default'") == true)
    }
}
