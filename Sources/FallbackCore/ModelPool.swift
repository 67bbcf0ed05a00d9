/// The models and the per-task chains, as loaded from the config.
public struct ModelPool: Sendable {
    /// The chain every unknown task runs (the seed's rule).
    public static let defaultChain = "default"

    public private(set) var models: [String: ModelConfig]
    public private(set) var chains: [String: [String]]
    /// Per chain: never fall back to a model whose price is more than this multiple of the primary's.
    public private(set) var maxCostRatio: [String: Double]

    /// Builds a pool; fails when a chain names an unknown model, is empty, or `default` is missing.
    public init(models: [ModelConfig], chains: [String: [String]], maxCostRatio: [String: Double] = [:]) throws(PoolError) {
        var byName: [String: ModelConfig] = [:]
        for model in models {
            guard byName[model.name] == nil else { throw .duplicateModel(model.name) }
            byName[model.name] = model
        }
        guard chains[Self.defaultChain] != nil else { throw .missingDefaultChain }
        for (task, names) in chains.sorted(by: { $0.key < $1.key }) {
            guard !names.isEmpty else { throw .emptyChain(task) }
            for name in names where byName[name] == nil {
                throw .unknownModel(chain: task, model: name)
            }
        }
        for chain in maxCostRatio.keys.sorted() where chains[chain] == nil {
            throw .unknownChain(chain)
        }
        self.models = byName
        self.chains = chains
        self.maxCostRatio = maxCostRatio
    }

    /// No models and no chains: a placeholder until a config is read.
    public static var empty: ModelPool { ModelPool(unchecked: ()) }

    private init(unchecked: Void) {
        models = [:]
        chains = [:]
        maxCostRatio = [:]
    }

    /// Model names sorted by priority, then name: a stable order for listings.
    public var modelsByPriority: [ModelConfig] {
        models.values.sorted { ($0.priority, $0.name) < ($1.priority, $1.name) }
    }

    /// The chain a task runs: its own, or `default` for a task with none.
    public func chain(forTask task: String) -> (chain: String, models: [ModelConfig]) {
        let name = chains[task] != nil ? task : Self.defaultChain
        let names = chains[name] ?? []
        return (name, names.compactMap { models[$0] })
    }
}

/// Why a pool could not be built.
public enum PoolError: Error, Equatable, CustomStringConvertible {
    case duplicateModel(String)
    case missingDefaultChain
    case emptyChain(String)
    case unknownModel(chain: String, model: String)
    /// `max_cost_ratio` names a chain that does not exist.
    case unknownChain(String)

    public var description: String {
        switch self {
        case .duplicateModel(let name): "model '\(name)' is defined twice"
        case .missingDefaultChain: "chains.default is required: unknown tasks run it"
        case .emptyChain(let task): "chains.\(task) is empty"
        case .unknownModel(let chain, let model): "chains.\(chain) names unknown model '\(model)'"
        case .unknownChain(let chain): "max_cost_ratio.\(chain) names no chain"
        }
    }
}
