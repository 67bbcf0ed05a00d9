import FallbackCore
import FallbackRPC
import FallbackStore
import Foundation
import Logging
import Synchronization

/// Re-reads the config file and swaps in a runtime built from it: validated first (a bad file
/// changes nothing), then applied in one step. Requests in flight finish on the runtime they
/// started on; breakers and health of unchanged models carry over.
final class Reloader: Sendable {
    let configPath: String?
    let box: RuntimeBox
    let builder: RuntimeBuilder
    let environment: @Sendable () -> [String: String]
    private let serial = Mutex(())

    init(
        configPath: String?, box: RuntimeBox, builder: RuntimeBuilder,
        environment: @escaping @Sendable () -> [String: String] = { ProcessInfo.processInfo.environment }
    ) {
        self.configPath = configPath
        self.box = box
        self.builder = builder
        self.environment = environment
    }

    /// Reloads from the file; `trigger` (`SIGHUP`, `rpc`) goes in the log.
    func reload(trigger: String) -> Result<ReloadResult, RPCError> {
        serial.withLock { _ in reloadLocked(trigger: trigger) }
    }

    private func reloadLocked(trigger: String) -> Result<ReloadResult, RPCError> {
        let shared = builder.shared
        let logger = shared.logger
        guard let configPath else {
            return .failure(RPCError(code: RPCErrorCode.reloadFailed, message: "this daemon was not started from a config file"))
        }
        let loaded: DaemonConfig
        do {
            loaded = try ConfigLoader.load(path: configPath, environment: environment())
        } catch {
            let problems = error.all.map(\.description)
            logger.notice(
                "config reload failed; nothing changed",
                metadata: ["config.path": "\(configPath)", "config.trigger": "\(trigger)", "config.problems": "\(problems.joined(separator: "; "))"])
            shared.metrics.reload(success: false)
            return .failure(RPCError(
                code: RPCErrorCode.reloadFailed,
                message: "config \(configPath) is invalid; nothing changed: \(problems.joined(separator: "; "))",
                data: ["path": .string(configPath), "problems": .array(problems.map { .string($0) })]))
        }
        let previous = box.current
        let diff = ReloadDiff(old: previous.config, new: loaded)
        var config = loaded
        // Settings only a restart applies keep their old value; the result names them.
        config.keepRestartOnlySettings(of: previous.config)
        let now = shared.clock.now()
        shared.breakers.reconfigure(
            policies: config.resilience.breakerOverrides, defaultPolicy: config.resilience.breaker, resetting: diff.resetModels)
        shared.budgets.reconfigure(budgets: config.cost.budgets)
        shared.appBudgets.reconfigure(budgets: config.apps.budgets)
        Self.restoreNewBudgets(shared: shared, previous: previous.config, next: config, at: now)
        let next = builder.build(config, previous: previous)
        next.install(DaemonMethods(shared: shared, runtime: next, reloader: self).table())
        box.swap(next)
        let result = ReloadResult(
            generation: next.generation, changed: diff.appliesChanges, providers: diff.providers, models: diff.models,
            chains: diff.chains, settings: diff.settings, breakersReset: diff.resetModels.sorted(),
            restartRequired: diff.restartRequired, warnings: config.warnings)
        shared.metrics.reload(success: true)
        var metadata: Logger.Metadata = [
            "config.path": "\(configPath)", "config.trigger": "\(trigger)", "config.generation": "\(next.generation)",
        ]
        for (key, changes) in [("providers", diff.providers), ("models", diff.models), ("chains", diff.chains)] where !changes.isEmpty {
            metadata["config.\(key)"] = "+\(changes.added) -\(changes.removed) ~\(changes.changed)"
        }
        if !diff.resetModels.isEmpty { metadata["config.breakers_reset"] = "\(diff.resetModels.sorted().joined(separator: ","))" }
        if !diff.restartRequired.isEmpty { metadata["config.restart_required"] = "\(diff.restartRequired.joined(separator: ","))" }
        logger.notice("config reloaded", metadata: metadata)
        for warning in config.warnings { logger.warning("\(warning)") }
        return .success(result)
    }

    /// A task (or app) that gained a budget starts from what the call log says it spent today.
    static func restoreNewBudgets(shared: DaemonShared, previous: DaemonConfig, next: DaemonConfig, at now: Moment) {
        let newTasks = Set(next.cost.budgets.keys).subtracting(previous.cost.budgets.keys)
        let newApps = Set(next.apps.budgets.keys).subtracting(previous.apps.budgets.keys)
        guard !newTasks.isEmpty || !newApps.isEmpty else { return }
        let midnight = now.unixMillis - now.unixMillis % 86_400_000
        do {
            let reporter = try CostReporter(path: shared.databasePath)
            defer { reporter.close() }
            if !newTasks.isEmpty {
                let spent = try reporter.spendByTask(sinceMillis: midnight)
                shared.budgets.add(spentToday: spent.filter { newTasks.contains($0.key) }, at: now)
            }
            if !newApps.isEmpty {
                let spent = try reporter.spendByApp(sinceMillis: midnight)
                shared.appBudgets.add(spentToday: spent.filter { newApps.contains($0.key) }, at: now)
            }
        } catch {
            shared.logger.error("could not read today's spend for new budgets; they start from zero", metadata: ["store.error": "\(error)"])
        }
    }
}
