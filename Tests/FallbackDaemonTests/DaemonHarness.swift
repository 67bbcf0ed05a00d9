import FallbackCore
import FallbackDaemon
import FallbackRPC
import Foundation
import Logging
import Synchronization

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
        shutdown_grace_ms = 60000
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

    /// - Parameter clock: the daemon's clock; a ``HeldClock`` keeps simulated calls running until released.
    init(configText: String = DaemonHarness.config(), clock: any FallbackClock = SystemClock()) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fbd-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        socketPath = directory + "/d.sock"
        databasePath = directory + "/calls.sqlite"
        var config = try ConfigLoader.parse(configText)
        config.databasePath = databasePath
        try await start(config, clock: clock)
    }

    private func start(_ config: DaemonConfig, clock: any FallbackClock) async throws {
        var logger = Logger(label: "fallbackd-test")
        logger.logLevel = .error
        let daemon = Daemon(config: config, socketPath: socketPath, logger: logger, clock: clock)
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

/// The system clock, except that a sleep longer than `holdFromMs` (a slow simulated provider) lasts
/// until ``release()`` or cancellation: a test decides when slow calls end, never a timer.
final class HeldClock: FallbackClock {
    private let system = SystemClock()
    private let holdFromMs: Int64
    private let state = Mutex<(released: Bool, held: [Int: CheckedContinuation<Void, any Error>], next: Int)>((false, [:], 0))

    init(holdFromMs: Int64 = 1_000) { self.holdFromMs = holdFromMs }

    func now() -> Moment { system.now() }

    /// Sleepers held right now.
    var heldCount: Int { state.withLock { $0.held.count } }

    func sleep(until deadline: Moment) async throws {
        let now = system.now()
        guard deadline.millis(since: now) >= holdFromMs else {
            let nanos = deadline.nanos - now.nanos
            if nanos > 0 { try await Task.sleep(for: .nanoseconds(nanos)) }
            return
        }
        let ticket = state.withLock { state -> Int in
            state.next += 1
            return state.next
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome = state.withLock { state -> Result<Void, any Error>? in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if state.released { return .success(()) }
                    state.held[ticket] = continuation
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            state.withLock { $0.held.removeValue(forKey: ticket) }?.resume(throwing: CancellationError())
        }
    }

    /// Wakes every held sleeper, and lets later long sleeps pass at once.
    func release() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            state.released = true
            defer { state.held = [:] }
            return Array(state.held.values)
        }
        for waiter in waiters { waiter.resume() }
    }
}
