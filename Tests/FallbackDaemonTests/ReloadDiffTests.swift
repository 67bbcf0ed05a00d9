import FallbackProviders
import Testing

@testable import FallbackDaemon

@Suite("Reload diff")
struct ReloadDiffTests {
    static let base = """
        [providers.sim]
        kind = "simulated"
        [providers.oa]
        kind = "openai-compatible"
        base_url = "http://127.0.0.1:9/v1"
        api_key_env = "KEY"
        [models.a]
        provider = "sim"
        model_id = "a-1"
        [models.b]
        provider = "oa"
        model_id = "b-1"
        [chains]
        default = ["a", "b"]
        """

    func diff(_ old: String, _ new: String, oldEnv: [String: String] = ["KEY": "k1"], newEnv: [String: String] = ["KEY": "k1"]) throws -> ReloadDiff {
        ReloadDiff(old: try ConfigLoader.parse(old, environment: oldEnv), new: try ConfigLoader.parse(new, environment: newEnv))
    }

    @Test("the same file changes nothing")
    func unchanged() throws {
        let same = try diff(Self.base, Self.base)
        #expect(!same.appliesChanges)
        #expect(same.resetModels.isEmpty && same.restartRequired.isEmpty)
    }

    @Test("a new key resets the breakers of that provider's models only")
    func rekeyed() throws {
        let changed = try diff(Self.base, Self.base, newEnv: ["KEY": "k2"])
        #expect(changed.providers.changed == ["oa"])
        #expect(changed.resetModels == ["b"])
        let moved = try diff(Self.base, Self.base.replacingOccurrences(of: "127.0.0.1:9", with: "127.0.0.1:10"))
        #expect(moved.resetModels == ["b"])
    }

    @Test("chains, models and settings are named; restart-only keys are listed")
    func sections() throws {
        let new = Self.base.replacingOccurrences(of: "default = [\"a\", \"b\"]", with: "default = [\"b\", \"a\"]\nfast = [\"a\"]")
            + "\n[breaker]\nconsecutive_failures = 7\n[daemon]\nsocket = \"/tmp/other.sock\"\n[models.c]\nprovider = \"sim\"\nmodel_id = \"c-1\""
        let changes = try diff(Self.base, new)
        #expect(changes.chains.changed == ["default"] && changes.chains.added == ["fast"])
        #expect(changes.models.added == ["c"])
        #expect(changes.settings == ["resilience"])
        #expect(changes.restartRequired == ["daemon.socket"])
        #expect(changes.appliesChanges)
        let renamed = try diff(Self.base, Self.base.replacingOccurrences(of: "model_id = \"a-1\"", with: "model_id = \"a-2\""))
        #expect(renamed.models.changed == ["a"] && renamed.resetModels == ["a"])
    }
}
