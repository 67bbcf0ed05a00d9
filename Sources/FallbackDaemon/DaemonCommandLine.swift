import Foundation
import Logging
import NIOCore
import NIOPosix

/// What `fallbackd` does for its command line; `main.swift` only parses arguments and calls this.
public enum DaemonCommandLine {
    /// Makes SwiftNIO's event loops Swift Concurrency's global executor, so a request's tasks run on
    /// the threads that do its socket and HTTP I/O instead of hopping to a separate pool and back.
    /// Must be called on the main thread before any Swift Concurrency code runs.
    public static func installEventLoopExecutor() -> Bool {
        let installed = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        executorInstalled = installed
        return installed
    }

    /// Set once, on the main thread, before anything concurrent runs.
    nonisolated(unsafe) static var executorInstalled = false

    /// fallbackd's version, as `--version` and `status` report it.
    public static let version = "0.2.0"

    /// `fallbackd --check-config FILE`: exit status 0 when the file is valid; otherwise every
    /// problem in the file, one per line.
    public static func checkConfig(path: String) -> Int32 {
        do {
            let config = try ConfigLoader.load(path: path)
            for warning in config.warnings { printError("fallbackd: warning: \(warning)") }
            print("config OK: \(config.pool.models.count) models, \(config.pool.chains.count) chains, \(config.providers.count) providers")
            return 0
        } catch {
            reportConfigError(error, path: path)
            return 1
        }
    }

    static func reportConfigError(_ error: ConfigError, path: String) {
        let all = error.all
        if all.count > 1 { printError("fallbackd: \(all.count) problems in \(path):") }
        for problem in all {
            printError("fallbackd: config error: \(problem.key.isEmpty ? problem.problem : "\(problem.key): \(problem.problem)")")
        }
    }

    /// The config file: `path` when given, else the first default that exists.
    static func configFile(_ path: String?) -> Result<String, ConfigError> {
        if let path { return .success(path) }
        let candidates = DefaultPaths.configCandidates(environment: ProcessInfo.processInfo.environment)
        if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) { return .success(found) }
        return .failure(ConfigError(key: "", "no config file: pass --config FILE, or create one of \(candidates.joined(separator: ", "))"))
    }

    /// Runs the daemon; returns the exit status.
    public static func run(configPath: String?, socket: String?, database: String?, logLevel: String?) async -> Int32 {
        var config: DaemonConfig
        let path: String
        switch configFile(configPath) {
        case .success(let found): path = found
        case .failure(let error):
            printError("fallbackd: \(error.problem)")
            return 1
        }
        do {
            config = try ConfigLoader.load(path: path)
            if let logLevel { config.logLevel = try ConfigLoader.logLevel(logLevel, key: "--log-level") }
        } catch {
            reportConfigError(error, path: path)
            return 1
        }
        if let database { config.databasePath = database }
        raiseOpenFileLimit()
        MemoryReturn.configure()
        if let problem = prepareDirectory(for: config.databasePath) {
            printError("fallbackd: \(problem)")
            return 1
        }
        let level = config.logLevel
        let format = config.logFormat
        LoggingSystem.bootstrap { label in
            if format == .json { return JSONLogHandler(label: label, level: level) }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "fallbackd")
        if !executorInstalled {
            // Expected in --static-swift-stdlib builds: the hook NIO looks up is not exported there.
            // Measured on this stack, the static build is still the faster one (see README).
            logger.info("tasks run on Swift's default pool: the event-loop executor could not be installed")
        }
        let socketPath = SocketPath.resolve(
            commandLine: socket, config: config.socketPath, environment: ProcessInfo.processInfo.environment
        )
        do {
            try await Daemon(config: config, socketPath: socketPath, logger: logger, configPath: path).run()
            return 0
        } catch {
            printError("fallbackd: \(error)")
            return 1
        }
    }

    /// Creates the call log's directory (mode 0700) when missing; says what is wrong otherwise.
    static func prepareDirectory(for database: String) -> String? {
        guard let slash = database.lastIndex(of: "/"), slash != database.startIndex else { return nil }
        let directory = String(database[..<slash])
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { return "cannot open the call log \(database): \(directory) is not a directory" }
            guard FileManager.default.isWritableFile(atPath: directory) else {
                return "cannot open the call log \(database): directory \(directory) is not writable"
            }
            return nil
        }
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            return nil
        } catch {
            return "cannot create the call log's directory \(directory): \(error.localizedDescription)"
        }
    }

    static func printError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Every request in flight holds a client socket and an upstream connection: take the hard
    /// open-file limit (often 4 to 500 times the soft one) instead of failing at 1,024.
    static func raiseOpenFileLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}
