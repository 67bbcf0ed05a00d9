import FallbackCore
import FallbackProviders
import Foundation
import Logging
import TOMLKit

/// Loads and validates a TOML config file.
public enum ConfigLoader {
    /// Reads `path`; `environment` supplies `api_key_env` variables. Relative paths in the file
    /// (database, socket, key files) are relative to the file's directory.
    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigError) -> DaemonConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(key: "", "cannot read \(path): \(error.localizedDescription)")
        }
        return try parse(text, environment: environment, configFile: path)
    }

    /// Parses config text. Every problem is reported (in the error's `all`), not only the first.
    public static func parse(_ text: String, environment: [String: String] = [:], configFile: String? = nil) throws(ConfigError) -> DaemonConfig {
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError(key: "", "not valid TOML: \(error.description) (line \(error.source.begin.line))")
        } catch {
            throw ConfigError(key: "", "not valid TOML: \(error)")
        }
        let problems = ConfigProblems()
        var top = TOMLReader(root, path: "", problems: problems, configFile: configFile)
        var warnings: [String] = []
        var config = DaemonConfig(
            socketPath: nil, databasePath: DefaultPaths.database(environment: environment),
            flushIntervalMs: DaemonConfig.defaultFlushIntervalMs, maxLineBytes: DaemonConfig.defaultMaxLineBytes,
            maxInFlight: DaemonConfig.defaultMaxInFlight, shutdownGraceMs: DaemonConfig.defaultShutdownGraceMs,
            logLevel: .info, providers: [], pool: ModelPool.empty, resilience: ResilienceConfig(), cost: CostConfig(), warnings: [])
        problems.collect { () throws(ConfigError) in try daemonSection(&top, into: &config) }
        let providers = readProviders(&top, environment: environment, warnings: &warnings, problems: problems)
        let providersByName = Dictionary(uniqueKeysWithValues: providers.settings.map { ($0.name, $0) })
        var resilience = problems.collect { () throws(ConfigError) in try ResilienceConfigParser.parse(&top) } ?? ResilienceConfig()
        let cost = problems.collect { () throws(ConfigError) in try CostConfigParser.parse(&top) } ?? CostConfig()
        if let facade = problems.collect({ () throws(ConfigError) in
            try FacadeConfigParser.parse(&top, environment: environment, warnings: &warnings)
        }) {
            config.facade = facade
        }
        if let fleet = problems.collect({ () throws(ConfigError) in
            try FleetConfigParser.parse(&top, environment: environment, warnings: &warnings)
        }) {
            config.fleet = fleet
        }
        let models = readModels(&top, providers: providersByName, failedProviders: providers.failed, resilience: &resilience, problems: problems)
        var chains: [String: [String]] = [:]
        if var chainsTable = problems.collect({ () throws(ConfigError) in try top.subtable("chains") }) ?? nil {
            for task in chainsTable.table.keys.sorted() {
                if let names = problems.collect({ () throws(ConfigError) in try chainsTable.stringArray(task) }) {
                    chains[task] = names
                }
            }
        } else if problems.list.isEmpty {
            problems.add(ConfigError(key: "chains", "a [chains] table with at least `default` is required"))
        }
        problems.collect { () throws(ConfigError) in
            try ResilienceConfigParser.chainOptions(&top, chains: Set(chains.keys), into: &resilience.routing)
        }
        if let apps = problems.collect({ () throws(ConfigError) in try AppsConfigParser.parse(&top, chains: Set(chains.keys)) }) {
            config.apps = apps
        }
        try? top.rejectUnknownKeys()

        let known = models.list.map(\.name) + Array(models.failed)
        if !chains.isEmpty {
            for chain in cost.maxCostRatio.keys.sorted() where chains[chain] == nil {
                problems.add(ConfigError(key: "max_cost_ratio.\(chain)", "names no chain" + Suggestion.hint(for: chain, in: chains.keys)))
            }
        }
        for (task, names) in chains.sorted(by: { $0.key < $1.key }) {
            for name in names where !known.contains(name) {
                problems.add(ConfigError(
                    key: "chains.\(task)", "names unknown model '\(name)'" + Suggestion.hint(for: name, in: known)))
            }
        }
        if !models.list.isEmpty, problems.list.isEmpty {
            do {
                config.pool = try ModelPool(models: models.list, chains: chains, maxCostRatio: cost.maxCostRatio)
            } catch {
                problems.add(poolError(error, knownModels: known))
            }
            problems.collect { () throws(ConfigError) in try CostConfigParser.validate(cost, models: Set(config.pool.models.keys), problems: problems) }
        }
        if let combined = problems.combined { throw combined }
        config.providers = providers.settings
        config.resilience = resilience
        config.cost = cost
        config.warnings = warnings
        return config
    }

    /// `[daemon]`.
    static func daemonSection(_ top: inout TOMLReader, into config: inout DaemonConfig) throws(ConfigError) {
        var daemon = try top.subtable("daemon") ?? TOMLReader(TOMLTable(), path: "daemon", problems: top.problems)
        config.socketPath = try daemon.string("socket").map { daemon.filePath($0) }
        if let database = try daemon.string("database") { config.databasePath = daemon.filePath(database) }
        config.flushIntervalMs = Int64(try daemon.int("flush_interval_ms", min: 10) ?? Int(DaemonConfig.defaultFlushIntervalMs))
        config.maxLineBytes = try daemon.int("max_line_bytes", min: 1024) ?? DaemonConfig.defaultMaxLineBytes
        config.maxInFlight = try daemon.int("max_in_flight", min: 1) ?? DaemonConfig.defaultMaxInFlight
        config.shutdownGraceMs = Int64(try daemon.int("shutdown_grace_ms", min: 0) ?? Int(DaemonConfig.defaultShutdownGraceMs))
        do {
            config.logLevel = try logLevel(daemon.string("log_level") ?? "info", key: daemon.key("log_level"))
        } catch {
            try daemon.report(error)
        }
        do {
            config.socketMode = try socketMode(&daemon)
        } catch {
            try daemon.report(error)
        }
        let formatText = try daemon.string("log_format") ?? "text"
        if let format = LogFormat(rawValue: formatText) {
            config.logFormat = format
        } else {
            try daemon.report(ConfigError(key: daemon.key("log_format"), "'\(formatText)' is not one of text, json"))
        }
        try daemon.rejectUnknownKeys()
    }

    /// Every `[providers.NAME]`; the names of those that failed (their models are not blamed again).
    static func readProviders(
        _ top: inout TOMLReader, environment: [String: String], warnings: inout [String], problems: ConfigProblems
    ) -> (settings: [ProviderSettings], failed: Set<String>) {
        guard var table = problems.collect({ () throws(ConfigError) in try top.subtable("providers") }) ?? nil,
            !table.table.keys.isEmpty
        else {
            problems.add(ConfigError(key: "providers", "at least one [providers.NAME] table is required"))
            return ([], [])
        }
        var settings: [ProviderSettings] = []
        var failed = Set<String>()
        for name in table.table.keys.sorted() {
            let parsed = problems.collect { () throws(ConfigError) -> ProviderSettings? in
                guard var reader = try table.subtable(name) else { return nil }
                let provider = try ProviderConfigParser.parse(&reader, name: name, environment: environment, warnings: &warnings)
                try reader.rejectUnknownKeys()
                return provider
            }
            if let provider = parsed ?? nil { settings.append(provider) } else { failed.insert(name) }
        }
        return (settings, failed)
    }

    /// Every `[models.NAME]` with its `[models.NAME.breaker]`; the names of those that failed.
    static func readModels(
        _ top: inout TOMLReader, providers: [String: ProviderSettings], failedProviders: Set<String>,
        resilience: inout ResilienceConfig, problems: ConfigProblems
    ) -> (list: [ModelConfig], failed: Set<String>) {
        guard var table = problems.collect({ () throws(ConfigError) in try top.subtable("models") }) ?? nil,
            !table.table.keys.isEmpty
        else {
            problems.add(ConfigError(key: "models", "at least one [models.NAME] table is required"))
            return ([], [])
        }
        var models: [ModelConfig] = []
        var failed = Set<String>()
        let base = resilience.breaker
        for name in table.table.keys.sorted() {
            var override: BreakerPolicy?
            let parsed = problems.collect { () throws(ConfigError) -> ModelConfig? in
                guard var reader = try table.subtable(name) else { return nil }
                if let provider = reader.table["provider"]?.string, failedProviders.contains(provider) {
                    // Its provider's table failed and was reported; do not blame the model too.
                    return nil
                }
                let model = try ModelConfigParser.parse(&reader, name: name, providers: providers)
                if var breaker = try reader.subtable("breaker") {
                    override = try ResilienceConfigParser.breakerPolicy(&breaker, base: base)
                    try breaker.rejectUnknownKeys()
                }
                try reader.rejectUnknownKeys()
                return model
            }
            if let model = parsed ?? nil {
                models.append(model)
                if let override { resilience.breakerOverrides[name] = override }
            } else {
                failed.insert(name)
            }
        }
        return (models, failed)
    }

    /// `socket_mode`: an integer (`0o660`) or an octal string (`"0660"`); owner read/write is required.
    static func socketMode(_ daemon: inout TOMLReader) throws(ConfigError) -> UInt32 {
        guard let raw = daemon.value("socket_mode") else { return 0o600 }
        let mode: UInt32?
        if let number = raw.int { mode = number >= 0 ? UInt32(number) : nil } else if let text = raw.string { mode = UInt32(text, radix: 8) } else { mode = nil }
        guard let mode, mode <= 0o777, mode & 0o600 == 0o600 else {
            throw ConfigError(key: daemon.key("socket_mode"), "must be a file mode such as \"0600\" or \"0660\" (the owner needs read and write)")
        }
        return mode
    }

    static func logLevel(_ text: String, key: String) throws(ConfigError) -> Logger.Level {
        guard let level = Logger.Level(rawValue: text) else {
            let names = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigError(key: key, "'\(text)' is not one of \(names)")
        }
        return level
    }

    static func poolError(_ error: PoolError, knownModels: [String]) -> ConfigError {
        switch error {
        case .duplicateModel(let name): ConfigError(key: "models.\(name)", "is defined twice")
        case .missingDefaultChain: ConfigError(key: "chains.default", "is required: unknown tasks run it")
        case .emptyChain(let task): ConfigError(key: "chains.\(task)", "must name at least one model")
        case .unknownModel(let chain, let model):
            ConfigError(key: "chains.\(chain)", "names unknown model '\(model)'" + Suggestion.hint(for: model, in: knownModels))
        case .unknownChain(let chain): ConfigError(key: "max_cost_ratio.\(chain)", "names no chain")
        }
    }
}
