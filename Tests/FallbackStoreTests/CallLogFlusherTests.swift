import Logging
import ServiceLifecycle
import Testing

@testable import FallbackStore

@Suite("CallLogFlusher")
struct CallLogFlusherTests {
    private func group(_ flusher: CallLogFlusher) -> ServiceGroup {
        ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: flusher, successTerminationBehavior: .gracefullyShutdownGroup)],
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }))
    }

    /// Polls `condition` every 2 ms for at most `seconds` (a generous bound, never a timing assertion).
    private func eventually(seconds: Double = 60, _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return condition()
    }

    @Test func flushesPeriodicallyAndOnGracefulShutdown() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let log = try CallLog(path: dir.path(), logger: LogCapture().logger)
        let services = group(CallLogFlusher(callLog: log, interval: .milliseconds(10)))
        let running = Task { try await services.run() }

        for i in 0..<10 { log.record(attempt(i)) }
        #expect(await eventually { log.stats.writtenCount == 10 }, "periodic flush should write within the interval")
        for i in 10..<20 { log.record(attempt(i)) }
        await services.triggerGracefulShutdown()
        try await running.value
        #expect(log.stats.writtenCount == 20 && log.stats.pendingCount == 0)
        #expect(try CallLogReader(path: dir.path()).count() == 20)
        await log.close()
    }

    @Test func finalFlushOnShutdownWithoutAnyTick() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let log = try CallLog(path: dir.path(), logger: LogCapture().logger)
        // An interval that never elapses during the test: only the final flush can write.
        let capture = LogCapture()
        let services = group(CallLogFlusher(callLog: log, interval: .seconds(3_600), logger: capture.logger))
        let running = Task { try await services.run() }
        for i in 0..<7 { log.record(attempt(i)) }
        await services.triggerGracefulShutdown()
        try await running.value
        #expect(log.stats.writtenCount == 7 && log.stats.pendingCount == 0)
        let final = capture.at(.info).filter { $0.message.description.contains("final flush") }
        #expect(final.count == 1 && final.first?.metadata?["store.rows"] == "7")
        await log.close()
    }

    @Test func finalFlushOnCancellation() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let log = try CallLog(path: dir.path(), logger: LogCapture().logger)
        let flusher = CallLogFlusher(callLog: log, interval: .seconds(3_600))
        for i in 0..<4 { log.record(attempt(i)) }
        let running = Task { await flusher.run() }
        running.cancel()
        await running.value
        #expect(log.stats.writtenCount == 4)
        await log.close()
    }

    @Test func failingFlushesDoNotStopTheFlusher() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let log = try CallLog(path: dir.path(), logger: LogCapture().logger, busyTimeoutMs: 1)
        let locker = try SQLiteConnection(path: dir.path())
        try locker.exec("BEGIN EXCLUSIVE")
        let services = group(CallLogFlusher(callLog: log, interval: .milliseconds(10)))
        let running = Task { try await services.run() }
        for i in 0..<5 { log.record(attempt(i)) }
        #expect(await eventually { log.stats.failedFlushes >= 2 })
        #expect(log.stats.pendingCount == 5)
        try locker.exec("COMMIT")
        #expect(await eventually { log.stats.writtenCount == 5 })
        await services.triggerGracefulShutdown()
        try await running.value
        #expect(try requestIDsInOrder(dir.path()) == (0..<5).map { "r-\($0)" })
        await log.close()
    }
}
