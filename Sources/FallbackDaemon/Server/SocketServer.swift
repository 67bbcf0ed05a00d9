#if canImport(Glibc)
import Glibc
#endif
import FallbackRPC
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Why the server could not start.
public struct ServerStartError: Error, CustomStringConvertible {
    public var description: String
}

/// The Unix-socket JSON-RPC server, as a Service: binds on start, drains on graceful shutdown.
final class SocketServer: Service {
    let path: String
    let group: any EventLoopGroup
    let dispatcher: RPCDispatcher
    let maxLineBytes: Int
    let graceMs: Int64
    /// The socket file's mode (0600 unless the config shares it with a group).
    let socketMode: mode_t
    let registry: ConnectionRegistry
    let logger: Logger
    /// Called once the socket accepts connections.
    let onListening: @Sendable () -> Void

    init(
        path: String, group: any EventLoopGroup, dispatcher: RPCDispatcher, maxLineBytes: Int, graceMs: Int64,
        registry: ConnectionRegistry, logger: Logger, socketMode: mode_t = 0o600, onListening: @escaping @Sendable () -> Void = {}
    ) {
        self.socketMode = socketMode
        self.path = path
        self.group = group
        self.dispatcher = dispatcher
        self.maxLineBytes = maxLineBytes
        self.graceMs = graceMs
        self.registry = registry
        self.logger = logger
        self.onListening = onListening
    }

    /// Binds the socket with mode 0600, replacing a stale socket file and refusing a live daemon's.
    func bind() async throws -> any Channel {
        switch SocketPath.probe(path) {
        case .liveDaemon:
            throw ServerStartError(description: "another fallbackd is listening on \(path)")
        case .otherFile:
            throw ServerStartError(description: "\(path) exists and is not a socket; refusing to replace it")
        case .staleSocket:
            logger.notice("replacing a stale socket file", metadata: ["server.socket": "\(path)"])
            unlink(path)
        case .nothing:
            break
        }
        try SocketPath.checkDirectory(of: path, what: "socket")
        let dispatcher = self.dispatcher
        let maxLineBytes = self.maxLineBytes
        let registry = self.registry
        let logger = self.logger
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 512)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        RPCConnectionHandler(dispatcher: dispatcher, maxLineBytes: maxLineBytes, registry: registry, logger: logger)
                    )
                }
            }
        // The umask makes the socket 0600 from its first instant; chmod below is belt and braces.
        let previous = umask(0o177)
        defer { umask(previous) }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(unixDomainSocketPath: path).get()
        } catch {
            throw ServerStartError(description: "cannot listen on the socket \(path): \(error)")
        }
        chmod(path, socketMode)
        return channel
    }

    func run() async throws {
        let channel = try await bind()
        logger.info("listening on \(path)", metadata: ["server.socket": "\(path)"])
        onListening()
        // Returns on graceful shutdown (SIGTERM/SIGINT); throws on cancellation. Both drain.
        try? await gracefulShutdown()
        await drain(channel)
    }

    /// Stops accepting, lets in-flight requests finish within the grace period (then cancels them),
    /// closes the connections and removes the socket.
    func drain(_ channel: any Channel) async {
        logger.info("shutting down: no new connections", metadata: ["server.in_flight": "\(dispatcher.gate.inFlight)"])
        try? await channel.close()
        dispatcher.gate.startDraining()
        let deadline = ContinuousClock.now + .milliseconds(graceMs)
        let gate = dispatcher.gate
        let idle = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await gate.waitUntilIdle()
                return !Task.isCancelled
            }
            group.addTask {
                try? await Task.sleep(until: deadline, clock: .continuous)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        if !idle {
            logger.warning("grace period over with requests in flight; cancelling them", metadata: ["server.in_flight": "\(gate.inFlight)"])
            registry.cancelAll()
        }
        // Every request has ended or been cancelled: wait for the connection groups to wind down,
        // so cancelled attempts are recorded before the final flush.
        await registry.finishAll()
        await registry.closeAll()
        unlink(path)
        logger.info("socket closed and removed", metadata: ["server.socket": "\(path)"])
    }
}
