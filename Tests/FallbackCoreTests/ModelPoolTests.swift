import Testing

@testable import FallbackCore

@Suite("ModelPool")
struct ModelPoolTests {
    @Test("the seed pool builds and keeps every model and chain")
    func seedPoolBuilds() throws {
        let pool = try Seed.pool()
        #expect(pool.models.count == 4)
        #expect(pool.models["gpt-4o"] == Seed.gpt4o)
        #expect(pool.chains == Seed.chains)
    }

    @Test("a pool without chains.default is refused")
    func missingDefaultChain() {
        #expect(throws: PoolError.missingDefaultChain) {
            try ModelPool(models: Seed.models, chains: ["complex_reasoning": ["gpt-4o"]])
        }
        #expect(throws: PoolError.missingDefaultChain) {
            try ModelPool(models: Seed.models, chains: [:])
        }
    }

    @Test("an empty chain is refused, naming the task")
    func emptyChain() {
        #expect(throws: PoolError.emptyChain("summarise")) {
            try ModelPool(models: Seed.models, chains: ["default": ["gpt-4o"], "summarise": []])
        }
        #expect(throws: PoolError.emptyChain("default")) {
            try ModelPool(models: Seed.models, chains: ["default": []])
        }
    }

    @Test("a chain naming an unknown model is refused, naming chain and model")
    func unknownModel() {
        #expect(throws: PoolError.unknownModel(chain: "fast", model: "gpt-5")) {
            try ModelPool(models: Seed.models, chains: ["default": ["gpt-4o"], "fast": ["gpt-4o-mini", "gpt-5"]])
        }
        #expect(throws: PoolError.unknownModel(chain: "default", model: "nope")) {
            try ModelPool(models: Seed.models, chains: ["default": ["nope"]])
        }
    }

    @Test("a model defined twice is refused")
    func duplicateModel() {
        var twin = Seed.gpt4oMini
        twin.priority = 9
        #expect(throws: PoolError.duplicateModel("gpt-4o-mini")) {
            try ModelPool(models: Seed.models + [twin], chains: Seed.chains)
        }
    }

    @Test("error descriptions name the config key")
    func descriptions() {
        #expect(PoolError.missingDefaultChain.description.contains("chains.default"))
        #expect(PoolError.emptyChain("fast").description == "chains.fast is empty")
        #expect(PoolError.unknownModel(chain: "fast", model: "x").description == "chains.fast names unknown model 'x'")
        #expect(PoolError.duplicateModel("gpt-4o").description.contains("'gpt-4o'"))
    }

    @Test("a known task runs its own chain, in configured order")
    func knownTask() throws {
        let (chain, models) = try Seed.pool().chain(forTask: "complex_reasoning")
        #expect(chain == "complex_reasoning")
        #expect(models.map(\.name) == ["gpt-4o", "claude-3-5-sonnet", "gpt-4o-mini"])
    }

    @Test("an unknown task runs default and says so", arguments: ["translate", "", "DEFAULT", "complex-reasoning"])
    func unknownTaskRunsDefault(task: String) throws {
        let (chain, models) = try Seed.pool().chain(forTask: task)
        #expect(chain == "default")
        #expect(models.map(\.name) == ["gpt-4o", "claude-3-5-sonnet", "gpt-4o-mini", "claude-3-haiku"])
    }

    @Test("modelsByPriority sorts by priority, then name")
    func modelsByPriority() throws {
        let tieA = ModelConfig(
            name: "a-tied", provider: "sim", modelID: "a", priority: 2, maxTokens: 10, costPer1kInput: 0, costPer1kOutput: 0)
        let tieZ = ModelConfig(
            name: "z-tied", provider: "sim", modelID: "z", priority: 2, maxTokens: 10, costPer1kInput: 0, costPer1kOutput: 0)
        let last = ModelConfig(
            name: "0-last", provider: "sim", modelID: "l", priority: 100, maxTokens: 10, costPer1kInput: 0, costPer1kOutput: 0)
        // Given out of order on purpose: the dictionary must not leak its order.
        let pool = try ModelPool(
            models: [last, Seed.haiku, tieZ, Seed.gpt4oMini, Seed.sonnet, tieA, Seed.gpt4o], chains: ["default": ["gpt-4o"]])
        #expect(
            pool.modelsByPriority.map(\.name) == [
                "gpt-4o", "a-tied", "claude-3-5-sonnet", "z-tied", "gpt-4o-mini", "claude-3-haiku", "0-last",
            ])
    }

    @Test("models not in any chain still belong to the pool")
    func modelsOutsideChains() throws {
        let pool = try ModelPool(models: Seed.models, chains: ["default": ["claude-3-haiku"]])
        #expect(pool.models.count == 4)
        #expect(pool.chain(forTask: "x").models == [Seed.haiku])
    }
}
