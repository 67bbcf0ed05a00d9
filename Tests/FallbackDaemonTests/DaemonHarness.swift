import FallbackCore
import FallbackDaemon
import FallbackRPC
import Foundation
import Logging

/// Runs the real daemon in-process on a temp socket and database, with simulated providers.
final class DaemonHarness: @unchecked Sendable {
    let directory: String
    let socketPath: String
    let databasePath: String
    let shutdown = ShutdownHandle()
    private var task: Task<Result<Void, any Error>, Never>?

    /// A config with three simulated providers: `fast` answers at once, `slow` after `slowMs`,
    /// `broken` always fails with server_error. `default` = broken -> fast.
    static func config(slowMs: Int = 300, maxLineBytes: Int = 65_536, extra: String = "") -> String {
        """
        [daemon]
        flush_interval_ms = 50
        max_line_bytes = \(maxLineBytes)
        shutdown_grace_ms = 5000
        [providers.sim-fast]
        kind = "simulated"
        [providers.sim-slow]
        kind = "simulated"
        latency_ms = \(slowMs)
        [providers.sim-broken]
        kind = "simulated"
        failure_rate = 1.0
        failure_kinds = ["server_error"]
        [models.fast]
        provider = "sim-fast"
        model_id = "fast-1"
        max_tokens = 100
        cost_per_1k_input = 0.001
        cost_per_1k_output = 0.002
        [models.slow]
        provider = "sim-slow"
        model_id = "slow-1"
        [models.broken]
        provider = "sim-broken"
        model_id = "broken-1"
        [chains]
        default = ["broken", "fast"]
        slow = ["slow"]
        \(extra)
        """
    }

    init(configText: String = DaemonHarness.config()) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fbd-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        socketPath = directory + "/d.sock"
        databasePath = directory + "/calls.sqlite"
        var config = try ConfigLoader.parse(configText)
        config.databasePath = databasePath
        try await start(config)
    }

    private func start(_ config: DaemonConfig) async throws {
        var logger = Logger(label: "fallbackd-test")
        logger.logLevel = .error
        let daemon = Daemon(config: config, socketPath: socketPath, logger: logger)
        let shutdown = self.shutdown
        let (listening, continuation) = AsyncStream<Void>.makeStream()
        task = Task {
            do {
                try await daemon.run(shutdown: shutdown) { continuation.yield() }
                continuation.finish()
                return .success(())
            } catch {
                continuation.finish()
                return .failure(error)
            }
        }
        var iterator = listening.makeAsyncIterator()
        if await iterator.next() == nil, let failure = await stop() {
            throw failure
        }
    }

    func connect(timeoutMs: Int = 10_000) throws -> LineSocket {
        try LineSocket(path: socketPath, timeoutMs: timeoutMs)
    }

    /// Graceful shutdown; returns the daemon's error, if it ended with one.
    @discardableResult
    func stop() async -> (any Error)? {
        await shutdown.trigger()
        guard let task else { return nil }
        self.task = nil
        if case .failure(let error) = await task.value { return error }
        return nil
    }

    func cleanUp() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    static func completeRequest(id: Int, task: String? = nil, models: [String]? = nil, content: String = "hello") -> JSON {
        var params: JSON = ["messages": [["role": "user", "content": .string(content)]]]
        if let task { params["task"] = .string(task) }
        if let models { params["models"] = .array(models.map { .string($0) }) }
        return ["jsonrpc": "2.0", "id": .int(id), "method": "complete", "params": params]
    }
}
