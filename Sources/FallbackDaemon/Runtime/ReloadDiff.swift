import FallbackCore
import FallbackFleet
import FallbackProviders
import FallbackRPC

/// What changed between two configs, and which breakers a reload resets.
struct ReloadDiff {
    var providers = ReloadResult.Changes()
    var models = ReloadResult.Changes()
    var chains = ReloadResult.Changes()
    var settings: [String] = []
    /// Models whose provider key or base URL (or their own provider or model id) changed.
    var resetModels: Set<String> = []
    var restartRequired: [String] = []

    var appliesChanges: Bool {
        !providers.isEmpty || !models.isEmpty || !chains.isEmpty || !settings.isEmpty
    }

    init(old: DaemonConfig, new: DaemonConfig) {
        let oldProviders = Dictionary(uniqueKeysWithValues: old.providers.map { ($0.name, $0) })
        let newProviders = Dictionary(uniqueKeysWithValues: new.providers.map { ($0.name, $0) })
        providers = Self.changes(oldProviders, newProviders, same: Self.sameProvider)
        // A new key or endpoint may fix what tripped the breaker: its models start closed.
        let rekeyed = Set(newProviders.compactMap { name, settings -> String? in
            guard let before = oldProviders[name] else { return nil }
            return before.apiKey?.reveal() != settings.apiKey?.reveal() || before.baseURL != settings.baseURL
                || before.kind != settings.kind ? name : nil
        })
        // A model is changed by its own table, not by its provider's (the provider is listed itself).
        models = Self.changes(old.pool.models, new.pool.models, same: Self.sameModel)
        chains = Self.changes(old.pool.chains, new.pool.chains, same: ==)
        for (name, model) in new.pool.models {
            if rekeyed.contains(model.provider) { resetModels.insert(name) }
            if let before = old.pool.models[name], before.provider != model.provider || before.modelID != model.modelID {
                resetModels.insert(name)
            }
        }
        var applied = new
        applied.keepRestartOnlySettings(of: old)
        if old.resilience != applied.resilience { settings.append("resilience") }
        if old.cost != applied.cost { settings.append("cost") }
        if old.facade != applied.facade { settings.append("facade") }
        if old.apps != applied.apps { settings.append("apps") }
        restartRequired = Self.restartOnly(old: old, new: new)
    }

    /// Keys whose new value only a restart applies.
    static func restartOnly(old: DaemonConfig, new: DaemonConfig) -> [String] {
        var keys: [String] = []
        if old.socketPath != new.socketPath { keys.append("daemon.socket") }
        if old.databasePath != new.databasePath { keys.append("daemon.database") }
        if old.socketMode != new.socketMode { keys.append("daemon.socket_mode") }
        if old.maxLineBytes != new.maxLineBytes { keys.append("daemon.max_line_bytes") }
        if old.maxInFlight != new.maxInFlight { keys.append("daemon.max_in_flight") }
        if old.flushIntervalMs != new.flushIntervalMs { keys.append("daemon.flush_interval_ms") }
        if old.shutdownGraceMs != new.shutdownGraceMs { keys.append("daemon.shutdown_grace_ms") }
        if old.logLevel != new.logLevel { keys.append("daemon.log_level") }
        if old.logFormat != new.logFormat { keys.append("daemon.log_format") }
        if old.resilience.health != new.resilience.health { keys.append("health") }
        if old.facade.enabled != new.facade.enabled { keys.append("facade.enabled") }
        if old.facade.socketPath != new.facade.socketPath { keys.append("facade.socket") }
        if old.facade.listen != new.facade.listen { keys.append("facade.listen") }
        if old.fleet != new.fleet { keys.append("fleet") }
        return keys
    }

    /// Equal but for what the provider contributes (a model's timeout defaults to its provider's).
    static func sameModel(_ a: ModelConfig, _ b: ModelConfig) -> Bool {
        var left = a
        var right = b
        left.timeoutMs = nil
        right.timeoutMs = nil
        return left == right && (a.timeoutMs == b.timeoutMs || a.provider == b.provider)
    }

    static func sameProvider(_ a: ProviderSettings, _ b: ProviderSettings) -> Bool {
        a.kind == b.kind && a.baseURL == b.baseURL && a.apiKey?.reveal() == b.apiKey?.reveal()
            && a.connectTimeoutMs == b.connectTimeoutMs && a.timeoutMs == b.timeoutMs
            && a.anthropicVersion == b.anthropicVersion && a.authHeader == b.authHeader && a.query == b.query
            && a.simulation == b.simulation && a.firstTokenTimeoutMs == b.firstTokenTimeoutMs
            && a.idleTimeoutMs == b.idleTimeoutMs
    }

    static func changes<Value>(
        _ old: [String: Value], _ new: [String: Value], same: (Value, Value) -> Bool
    ) -> ReloadResult.Changes {
        ReloadResult.Changes(
            added: new.keys.filter { old[$0] == nil }.sorted(),
            removed: old.keys.filter { new[$0] == nil }.sorted(),
            changed: new.compactMap { name, value in old[name].map { same($0, value) ? nil : name } ?? nil }.sorted())
    }
}
