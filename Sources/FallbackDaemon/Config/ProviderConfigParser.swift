import FallbackCore
import FallbackProviders
import Foundation

/// Parses one `[providers.NAME]` table, including where its key comes from.
enum ProviderConfigParser {
    static func parse(
        _ reader: inout TOMLReader, name: String, environment: [String: String], warnings: inout [String]
    ) throws(ConfigError) -> ProviderSettings {
        let kindText = try reader.requiredString("kind")
        guard let kind = ProviderKind(rawValue: kindText) else {
            let kinds = ProviderKind.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigError(key: reader.key("kind"), "'\(kindText)' is not one of \(kinds)")
        }
        let baseURL = try reader.string("base_url")
        if let baseURL { try validateURL(baseURL, key: reader.key("base_url")) }
        if kind == .openaiCompatible, baseURL == nil {
            throw ConfigError(key: reader.key("base_url"), "is required for kind \"openai-compatible\"")
        }
        let apiKey = try loadKey(&reader, kind: kind, environment: environment, warnings: &warnings)
        let connect = try reader.int("connect_timeout_ms", min: 1).map(Int64.init) ?? ProviderSettings.defaultConnectTimeoutMs
        let timeout = try reader.int("timeout_ms", min: 1).map(Int64.init) ?? ProviderSettings.defaultTimeoutMs
        var version = ProviderSettings.defaultAnthropicVersion
        if kind == .anthropic { version = try reader.string("anthropic_version") ?? version }
        let simulation = kind == .simulated ? try parseSimulation(&reader) : nil
        var settings = ProviderSettings(
            name: name, kind: kind, baseURL: baseURL, apiKey: apiKey, connectTimeoutMs: connect,
            timeoutMs: timeout, anthropicVersion: version, simulation: simulation
        )
        if let firstToken = try reader.int("first_token_timeout_ms", min: 0) {
            settings.firstTokenTimeoutMs = firstToken == 0 ? nil : Int64(firstToken)
        }
        settings.maxConnections = try reader.int("max_connections", min: 1, max: 65_536) ?? 0
        if let idle = try reader.int("idle_timeout_ms", min: 0) {
            settings.idleTimeoutMs = idle == 0 ? nil : Int64(idle)
        }
        if kind == .openai || kind == .openaiCompatible {
            if let header = try reader.string("auth_header") {
                guard !header.isEmpty, header.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: ":") }) else {
                    throw ConfigError(key: reader.key("auth_header"), "must be an HTTP header name such as \"api-key\"")
                }
                settings.authHeader = header.lowercased() == "authorization" ? nil : header
            }
            if let query = try reader.string("query") {
                guard !query.isEmpty, !query.hasPrefix("?"), !query.contains(" "), !query.contains("#") else {
                    throw ConfigError(key: reader.key("query"), "must be a query string without '?', e.g. \"api-version=2024-06-01\"")
                }
                settings.query = query
            }
        }
        return settings
    }

    /// The key from `api_key_env` or `api_key_file`. A source is required where the kind needs a key;
    /// a source that is empty at start is a warning: the provider then fails with `auth` and the chain moves on.
    static func loadKey(
        _ reader: inout TOMLReader, kind: ProviderKind, environment: [String: String], warnings: inout [String]
    ) throws(ConfigError) -> APIKey? {
        let hasSource = reader.value("api_key_env") != nil || reader.value("api_key_file") != nil
        let key = try SecretLoader.load(
            &reader, envKey: "api_key_env", fileKey: "api_key_file", what: "the provider's key",
            environment: environment, warnings: &warnings, consequence: "; calls to this provider will fail with auth")
        if !hasSource, kind.requiresAPIKey {
            // A misspelt source (`api_key_evn`) is what the operator has to fix: name it.
            for name in reader.table.keys.sorted() where name != "api_key_env" && name != "api_key_file" {
                if let meant = Suggestion.closest(to: name, in: ["api_key_env", "api_key_file"]) {
                    throw ConfigError(key: reader.key(name), "unknown key (did you mean '\(meant)'?); kind \"\(kind.rawValue)\" needs a key")
                }
            }
            throw ConfigError(key: reader.key("api_key_env"), "kind \"\(kind.rawValue)\" needs a key: set api_key_env or api_key_file")
        }
        return key
    }

    static func validateURL(_ text: String, key: String) throws(ConfigError) {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = url.host, !host.isEmpty
        else {
            throw ConfigError(key: key, "'\(text)' is not an http(s) URL")
        }
    }

    static func parseSimulation(_ reader: inout TOMLReader) throws(ConfigError) -> SimulationSettings {
        let seed = try reader.int("seed", min: 0) ?? 0
        let latency = try reader.int("latency_ms", min: 0) ?? 0
        let jitter = try reader.int("latency_jitter_ms", min: 0) ?? 0
        let rate = try reader.double("failure_rate", min: 0, max: 1) ?? 0
        var kinds: [ErrorType] = []
        for (index, text) in (try reader.stringArray("failure_kinds") ?? []).enumerated() {
            kinds.append(try errorType(text, key: "\(reader.key("failure_kinds"))[\(index)]"))
        }
        var outages: [SimulatedOutage] = []
        if let raw = reader.value("outages") {
            guard let array = raw.array else { throw ConfigError(key: reader.key("outages"), "must be an array of tables") }
            for (index, element) in array.enumerated() {
                let key = "\(reader.key("outages"))[\(index)]"
                guard let table = element.table else { throw ConfigError(key: key, "must be a table") }
                outages.append(try parseOutage(TOMLReader(table, path: key)))
            }
        }
        return SimulationSettings(
            seed: UInt64(seed), latencyMs: Int64(latency), latencyJitterMs: Int64(jitter), failureRate: rate,
            failureKinds: kinds, outages: outages
        )
    }

    static func parseOutage(_ reader: TOMLReader) throws(ConfigError) -> SimulatedOutage {
        var reader = reader
        let error = try errorType(try reader.requiredString("error"), key: reader.key("error"))
        let fromRequest = try reader.int("from_request", min: 0)
        let toRequest = try reader.int("to_request", min: 0)
        let fromSeconds = try reader.double("from_s", min: 0)
        let toSeconds = try reader.double("to_s", min: 0)
        let every = try reader.double("every_s", min: 0.001)
        try reader.rejectUnknownKeys()
        if let fromRequest, let toRequest, fromSeconds == nil, toSeconds == nil {
            guard toRequest > fromRequest else { throw ConfigError(key: reader.key("to_request"), "must be above from_request") }
            return .requests(fromRequest..<toRequest, error: error)
        }
        if let fromSeconds, let toSeconds, fromRequest == nil, toRequest == nil {
            guard toSeconds > fromSeconds else { throw ConfigError(key: reader.key("to_s"), "must be above from_s") }
            if let every, every < toSeconds {
                throw ConfigError(key: reader.key("every_s"), "must be at least to_s: the window repeats every every_s seconds")
            }
            var outage = SimulatedOutage.seconds(from: fromSeconds, to: toSeconds, error: error)
            outage.repeatEverySeconds = every
            return outage
        }
        if every != nil { throw ConfigError(key: reader.key("every_s"), "repeats a from_s/to_s window only") }
        throw ConfigError(key: reader.path, "give either from_request and to_request, or from_s and to_s")
    }

    static func errorType(_ text: String, key: String) throws(ConfigError) -> ErrorType {
        guard let type = ErrorType(rawValue: text) else {
            let names = ErrorType.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigError(key: key, "'\(text)' is not one of \(names)")
        }
        return type
    }
}
