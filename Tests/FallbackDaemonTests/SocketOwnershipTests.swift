#if canImport(Glibc)
import Glibc
#endif
import FallbackDaemon
import Foundation
import Testing

@Suite("socket file ownership")
struct SocketOwnershipTests {
    @Test("the socket is created with mode 0600")
    func socketMode() async throws {
        let harness = try await DaemonHarness()
        defer { harness.cleanUp() }
        let attributes = try FileManager.default.attributesOfItem(atPath: harness.socketPath)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        await harness.stop()
    }

    @Test("a second daemon on a live socket fails with a clear error, and the first keeps serving")
    func liveDaemonRefused() async throws {
        let first = try await DaemonHarness()
        defer { first.cleanUp() }
        var config = try ConfigLoader.parse(DaemonHarness.config())
        config.databasePath = first.directory + "/second.sqlite"
        let second = Daemon(config: config, socketPath: first.socketPath, logger: .init(label: "second"))
        await #expect(throws: ServerStartError.self) { try await second.run() }
        #expect(try await first.connect().call("ping")["result"]?.stringValue == "pong")
        await first.stop()
    }

    @Test("a stale socket file left by a dead daemon is replaced")
    func staleSocketReplaced() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fbd-stale-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/d.sock"
        // Bind and close without unlinking: exactly what a killed daemon leaves behind.
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path.utf8)
            raw[path.utf8.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        close(fd)
        #expect(FileManager.default.fileExists(atPath: path))

        var config = try ConfigLoader.parse(DaemonHarness.config())
        config.databasePath = directory + "/calls.sqlite"
        let daemon = Daemon(config: config, socketPath: path, logger: .init(label: "stale"))
        let shutdown = ShutdownHandle()
        let (listening, continuation) = AsyncStream<Void>.makeStream()
        let running = Task { try await daemon.run(shutdown: shutdown) { continuation.yield() } }
        var iterator = listening.makeAsyncIterator()
        _ = await iterator.next()
        #expect(try await LineSocket(path: path).call("ping")["result"]?.stringValue == "pong")
        await shutdown.trigger()
        try await running.value
    }
}
