import FallbackCore
import FallbackProviders
import Foundation
import Testing

@testable import FallbackDaemon

@Suite("config loading and validation")
struct ConfigLoaderTests {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static let minimal = """
        [providers.sim]
        kind = "simulated"
        [models.a]
        provider = "sim"
        model_id = "a-1"
        [models.b]
        provider = "sim"
        model_id = "b-1"
        [chains]
        default = ["a", "b"]
        """

    func error(_ text: String, environment: [String: String] = [:]) -> ConfigError? {
        do {
            _ = try ConfigLoader.parse(text, environment: environment)
            return nil
        } catch {
            return error
        }
    }

    @Test("the repo's configs load: the seed's pool, prices and five chains")
    func repoConfigs() throws {
        let config = try ConfigLoader.load(path: Self.repoRoot + "/config/fallbackd.toml", environment: ["OPENAI_API_KEY": "sk-x"])
        #expect(config.pool.chains["complex_reasoning"] == ["gpt-4o", "claude-3-5-sonnet", "gpt-4o-mini"])
        #expect(config.pool.chains["simple_generation"] == ["gpt-4o-mini", "claude-3-haiku", "gpt-4o"])
        #expect(config.pool.chains["document_analysis"] == ["claude-3-5-sonnet", "gpt-4o", "gpt-4o-mini"])
        #expect(config.pool.chains["code_generation"] == ["gpt-4o", "claude-3-5-sonnet", "gpt-4o-mini"])
        #expect(config.pool.chains["default"] == ["gpt-4o", "claude-3-5-sonnet", "gpt-4o-mini", "claude-3-haiku"])
        #expect(config.pool.models["claude-3-5-sonnet"]?.modelID == "claude-3-5-sonnet-20241022")
        #expect(config.pool.models["claude-3-haiku"]?.costPer1kOutput == 0.00125)
        #expect(config.providers.first { $0.name == "openai" }?.apiKey?.reveal() == "sk-x")
        // Keys not set in the environment are warnings, not errors: the chain moves on with `auth`.
        #expect(config.warnings.contains { $0.contains("ANTHROPIC_API_KEY") })
        let demo = try ConfigLoader.load(path: Self.repoRoot + "/config/demo.toml", environment: [:])
        #expect(demo.providers.allSatisfy { $0.kind == .simulated })
        // The seed's chains, each with the third provider as its last resort (for when two are down).
        #expect(Set(demo.pool.chains.keys) == Set(config.pool.chains.keys))
        for (task, chain) in config.pool.chains {
            let demoChain = demo.pool.chains[task] ?? []
            #expect(Array(demoChain.prefix(chain.count)) == chain, "\(task)")
            #expect(demoChain.last == "gemini-1-5-pro" || task == "long_context", "\(task)")
        }
    }

    @Test("each mistake names its key")
    func errorsNameTheKey() {
        #expect(error(Self.minimal + "\n[daemon]\nflush_interval_ms = \"x\"")?.key == "daemon.flush_interval_ms")
        #expect(error(Self.minimal.replacingOccurrences(of: "model_id = \"a-1\"", with: "model_id = \"a-1\"\nmodle = 1"))?.key == "models.a.modle")
        #expect(error(Self.minimal.replacingOccurrences(of: "default = [\"a\", \"b\"]", with: "default = [\"a\", \"zz\"]"))?.key == "chains.default")
        #expect(error(Self.minimal.replacingOccurrences(of: "default = [", with: "other = ["))?.key == "chains.default")
        #expect(error(Self.minimal + "\n[providers.oa]\nkind = \"openai\"")?.key == "providers.oa.api_key_env")
        #expect(error(Self.minimal + "\n[providers.oa]\nkind = \"openai-compatible\"\nbase_url = \"not a url\"")?.key == "providers.oa.base_url")
        #expect(error(Self.minimal + "\n[providers.oa]\nkind = \"openai-compatible\"")?.key == "providers.oa.base_url")
        #expect(error(Self.minimal + "\n[breaker]\nopen_ms = 10\nmax_open_ms = 5")?.key == "breaker.max_open_ms")
        #expect(error(Self.minimal + "\n[max_cost_ratio]\nnope = 2.0")?.key == "max_cost_ratio.nope")
        #expect(error(Self.minimal + "\n[shadow.pairs]\na = \"ghost\"")?.key == "shadow.pairs.a")
        #expect(error(Self.minimal + "\n[providers.oa]\nkind = \"openai-compatible\"\nbase_url = \"http://h/v1\"\nquery = \"?x=1\"")?.key == "providers.oa.query")
    }

    @Test("resilience, cost and Azure-style settings reach the runtime types")
    func sectionsAreApplied() throws {
        let text = Self.minimal + """

            [models.a.breaker]
            consecutive_failures = 5
            [breaker]
            open_ms = 1000
            max_open_ms = 4000
            when_all_open = "try_least_recent"
            [retry]
            max_retries = 2
            [budgets]
            default = 1.5
            [max_cost_ratio]
            default = 3.0
            [shadow]
            sample_rate = 0.25
            [providers.azure]
            kind = "openai-compatible"
            base_url = "https://x.openai.azure.com/openai/deployments/d"
            api_key_env = "AZ"
            auth_header = "api-key"
            query = "api-version=2024-06-01"
            """
        let config = try ConfigLoader.parse(text, environment: ["AZ": "k"])
        #expect(config.resilience.breakerOverrides["a"]?.consecutiveFailures == 5)
        #expect(config.resilience.breakerOverrides["a"]?.openMs == 1000, "overrides start from [breaker]")
        #expect(config.resilience.breaker.maxOpenMs == 4000)
        #expect(config.resilience.whenAllOpen == .tryLeastRecent)
        #expect(config.resilience.retry.maxRetries == 2)
        #expect(config.cost.budgets["default"] == 1.5)
        #expect(config.pool.maxCostRatio["default"] == 3.0)
        #expect(config.cost.shadow.sampleRate == 0.25)
        let azure = try #require(config.providers.first { $0.name == "azure" })
        #expect(azure.authHeader == "api-key")
        #expect(azure.query == "api-version=2024-06-01")
    }
}
