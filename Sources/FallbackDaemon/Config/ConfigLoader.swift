import FallbackCore
import FallbackProviders
import Foundation
import Logging
import TOMLKit

/// Loads and validates a TOML config file.
public enum ConfigLoader {
    /// Reads `path`; `environment` supplies `api_key_env` variables.
    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigError) -> DaemonConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(key: "", "cannot read \(path): \(error.localizedDescription)")
        }
        return try parse(text, environment: environment)
    }

    /// Parses config text.
    public static func parse(_ text: String, environment: [String: String] = [:]) throws(ConfigError) -> DaemonConfig {
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError(key: "", "not valid TOML: \(error.description) (line \(error.source.begin.line))")
        } catch {
            throw ConfigError(key: "", "not valid TOML: \(error)")
        }
        var top = TOMLReader(root, path: "")
        var warnings: [String] = []

        var daemon = try top.subtable("daemon") ?? TOMLReader(TOMLTable(), path: "daemon")
        let socket = try daemon.string("socket")
        let database = try daemon.string("database") ?? DaemonConfig.defaultDatabasePath
        let flush = try daemon.int("flush_interval_ms", min: 10) ?? Int(DaemonConfig.defaultFlushIntervalMs)
        let maxLine = try daemon.int("max_line_bytes", min: 1024) ?? DaemonConfig.defaultMaxLineBytes
        let maxInFlight = try daemon.int("max_in_flight", min: 1) ?? DaemonConfig.defaultMaxInFlight
        let grace = try daemon.int("shutdown_grace_ms", min: 0) ?? Int(DaemonConfig.defaultShutdownGraceMs)
        let level = try logLevel(daemon.string("log_level") ?? "info", key: daemon.key("log_level"))
        try daemon.rejectUnknownKeys()

        guard var providersTable = try top.subtable("providers"), !providersTable.table.keys.isEmpty else {
            throw ConfigError(key: "providers", "at least one [providers.NAME] table is required")
        }
        var providers: [ProviderSettings] = []
        for name in providersTable.table.keys.sorted() {
            guard var reader = try providersTable.subtable(name) else { continue }
            providers.append(try ProviderConfigParser.parse(&reader, name: name, environment: environment, warnings: &warnings))
            try reader.rejectUnknownKeys()
        }
        let providersByName = Dictionary(uniqueKeysWithValues: providers.map { ($0.name, $0) })

        guard var modelsTable = try top.subtable("models"), !modelsTable.table.keys.isEmpty else {
            throw ConfigError(key: "models", "at least one [models.NAME] table is required")
        }
        var resilience = try ResilienceConfigParser.parse(&top)
        let cost = try CostConfigParser.parse(&top)
        var models: [ModelConfig] = []
        for name in modelsTable.table.keys.sorted() {
            guard var reader = try modelsTable.subtable(name) else { continue }
            models.append(try ModelConfigParser.parse(&reader, name: name, providers: providersByName))
            if var breaker = try reader.subtable("breaker") {
                resilience.breakerOverrides[name] = try ResilienceConfigParser.breakerPolicy(&breaker, base: resilience.breaker)
                try breaker.rejectUnknownKeys()
            }
            try reader.rejectUnknownKeys()
        }

        guard var chainsTable = try top.subtable("chains") else {
            throw ConfigError(key: "chains", "a [chains] table with at least `default` is required")
        }
        var chains: [String: [String]] = [:]
        for task in chainsTable.table.keys.sorted() {
            chains[task] = try chainsTable.stringArray(task)
        }
        try ResilienceConfigParser.chainOptions(&top, chains: Set(chains.keys), into: &resilience.routing)
        try top.rejectUnknownKeys()

        let pool: ModelPool
        do {
            pool = try ModelPool(models: models, chains: chains, maxCostRatio: cost.maxCostRatio)
        } catch {
            throw poolError(error)
        }
        try CostConfigParser.validate(cost, models: Set(pool.models.keys))
        return DaemonConfig(
            socketPath: socket, databasePath: database, flushIntervalMs: Int64(flush), maxLineBytes: maxLine,
            maxInFlight: maxInFlight, shutdownGraceMs: Int64(grace), logLevel: level, providers: providers,
            pool: pool, resilience: resilience, cost: cost, warnings: warnings
        )
    }

    static func logLevel(_ text: String, key: String) throws(ConfigError) -> Logger.Level {
        guard let level = Logger.Level(rawValue: text) else {
            let names = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigError(key: key, "'\(text)' is not one of \(names)")
        }
        return level
    }

    static func poolError(_ error: PoolError) -> ConfigError {
        switch error {
        case .duplicateModel(let name): ConfigError(key: "models.\(name)", "is defined twice")
        case .missingDefaultChain: ConfigError(key: "chains.default", "is required: unknown tasks run it")
        case .emptyChain(let task): ConfigError(key: "chains.\(task)", "must name at least one model")
        case .unknownModel(let chain, let model): ConfigError(key: "chains.\(chain)", "names unknown model '\(model)'")
        case .unknownChain(let chain): ConfigError(key: "max_cost_ratio.\(chain)", "names no chain")
        }
    }
}
