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

    /// `fallbackd --check-config FILE`: exit status 0 when the file is valid.
    public static func checkConfig(path: String) -> Int32 {
        do {
            let config = try ConfigLoader.load(path: path)
            for warning in config.warnings { printError("fallbackd: warning: \(warning)") }
            print("config OK: \(config.pool.models.count) models, \(config.pool.chains.count) chains, \(config.providers.count) providers")
            return 0
        } catch {
            printError("fallbackd: config error: \(error.description)")
            return 1
        }
    }

    /// Runs the daemon; returns the exit status.
    public static func run(configPath: String, socket: String?, database: String?, logLevel: String?) async -> Int32 {
        var config: DaemonConfig
        do {
            config = try ConfigLoader.load(path: configPath)
            if let logLevel { config.logLevel = try ConfigLoader.logLevel(logLevel, key: "--log-level") }
        } catch {
            printError("fallbackd: config error: \(error.description)")
            return 1
        }
        if let database { config.databasePath = database }
        let level = config.logLevel
        LoggingSystem.bootstrap { label in
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
        let path = SocketPath.resolve(
            commandLine: socket, config: config.socketPath, environment: ProcessInfo.processInfo.environment
        )
        do {
            try await Daemon(config: config, socketPath: path, logger: logger).run()
            return 0
        } catch {
            printError("fallbackd: \(error)")
            return 1
        }
    }

    static func printError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
