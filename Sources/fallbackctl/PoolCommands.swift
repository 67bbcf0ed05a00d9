import ArgumentParser
import FallbackClient

/// `fallbackctl models`: the model pool as an aligned table.
struct ModelsCommand: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List the model pool (sorted by priority, then name)."
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print the raw result JSON.")
    var json = false

    func run(with client: FallbackClient) throws(FallbackClientError) {
        if json {
            print(try client.call("models").serialized)
            return
        }
        Self.table(for: try client.models()).print()
    }

    static func table(for models: [ModelInfo]) -> Table {
        var table = Table([
            .init("NAME"), .init("PROVIDER"), .init("MODEL_ID"), .init("PRIORITY", .right),
            .init("MAX_TOKENS", .right), .init("$/1K IN", .right), .init("$/1K OUT", .right), .init("NOTES"),
        ])
        for model in models {
            table.append([
                model.name, model.provider, model.modelID, String(model.priority), String(model.maxTokens),
                Output.decimal(model.costPer1kInput), Output.decimal(model.costPer1kOutput), model.notes,
            ])
        }
        return table
    }
}

/// `fallbackctl chains`: each task's fallback chain, the default one marked.
struct ChainsCommand: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "chains",
        abstract: "List the fallback chains (task -> models tried in order)."
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print the raw result JSON.")
    var json = false

    func run(with client: FallbackClient) throws(FallbackClientError) {
        if json {
            print(try client.call("chains").serialized)
            return
        }
        Self.table(for: try client.chainTable()).print()
    }

    static func table(for chains: ChainTable) -> Table {
        var table = Table([.init("TASK"), .init("CHAIN")])
        for task in chains.orderedTasks {
            let label = task == chains.defaultChain ? "\(task) (default)" : task
            table.append([label, (chains.chains[task] ?? []).joined(separator: " → ")])
        }
        return table
    }
}
