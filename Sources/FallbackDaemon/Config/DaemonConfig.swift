import FallbackCore
import FallbackFleet
import FallbackProviders
import Logging

/// Everything fallbackd runs with, validated.
public struct DaemonConfig: Sendable {
    /// From `[daemon] socket`; the command line and environment may still decide (see `SocketPath`).
    public var socketPath: String?
    public var databasePath: String
    public var flushIntervalMs: Int64
    public var maxLineBytes: Int
    public var maxInFlight: Int
    public var shutdownGraceMs: Int64
    public var logLevel: Logger.Level
    public var providers: [ProviderSettings]
    public var pool: ModelPool
    public var resilience: ResilienceConfig
    public var cost: CostConfig
    /// The OpenAI-compatible HTTP endpoint.
    public var facade = FacadeConfig()
    /// `[apps.NAME]`: callers by uid or executable, their budgets and tasks.
    public var apps = AppsConfig()
    /// Mode of both socket files (`[daemon] socket_mode`): 0600, or e.g. 0660 to share with a group.
    public var socketMode: UInt32 = 0o600
    /// `[daemon] log_format`: `text` or `json`.
    public var logFormat: LogFormat = .text
    /// `[fleet]`: sharing breakers and health with other sidecars through PostgreSQL; `nil` runs local-only.
    public var fleet: FleetSettings?
    /// Problems that do not stop the daemon (a key variable not set): logged at start.
    public var warnings: [String]

    public static let defaultDatabasePath = "fallbackd.sqlite"
    public static let defaultFlushIntervalMs: Int64 = 1_000
    public static let defaultMaxLineBytes = 8 * 1024 * 1024
    public static let defaultMaxInFlight = 10_000
    public static let defaultShutdownGraceMs: Int64 = 10_000
}

/// How log lines are written.
public enum LogFormat: String, Sendable, CaseIterable {
    case text
    case json
}

extension DaemonConfig {
    /// Takes `running`'s values for everything only a restart applies (the sockets, the database,
    /// limits fixed at start, logging, the health window, where the facade listens).
    mutating func keepRestartOnlySettings(of running: DaemonConfig) {
        socketPath = running.socketPath
        databasePath = running.databasePath
        socketMode = running.socketMode
        maxLineBytes = running.maxLineBytes
        maxInFlight = running.maxInFlight
        flushIntervalMs = running.flushIntervalMs
        shutdownGraceMs = running.shutdownGraceMs
        logLevel = running.logLevel
        logFormat = running.logFormat
        resilience.health = running.resilience.health
        facade.enabled = running.facade.enabled
        facade.socketPath = running.facade.socketPath
        facade.listen = running.facade.listen
        fleet = running.fleet
    }
}
