#if canImport(Glibc)
import Glibc
#endif
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// The HTTP facade as a Service: Hummingbird on the HTTP Unix socket and, when configured, on a
/// TCP address, both serving the same routes. Graceful shutdown lets running requests finish.
final class FacadeServer<Responder: HTTPResponder>: Service where Responder.Context == FacadeContext {
    let socketPath: String
    let listen: HostPort?
    let socketMode: mode_t
    let responder: Responder
    let connections: FacadeConnections
    let graceMs: Int64
    let group: any EventLoopGroup
    let logger: Logger
    /// The TCP address actually bound (port 0 picks one), once listening.
    let boundTCP: BoundAddress

    init(
        socketPath: String, listen: HostPort?, socketMode: mode_t, responder: Responder,
        connections: FacadeConnections, bound: BoundAddress, graceMs: Int64, group: any EventLoopGroup, logger: Logger
    ) {
        boundTCP = bound
        self.graceMs = graceMs
        self.socketPath = socketPath
        self.listen = listen
        self.socketMode = socketMode
        self.responder = responder
        self.connections = connections
        self.group = group
        self.logger = logger
    }

    func run() async throws {
        switch SocketPath.probe(socketPath) {
        case .liveDaemon:
            throw ServerStartError(description: "another fallbackd is listening on the HTTP socket \(socketPath)")
        case .otherFile:
            throw ServerStartError(description: "\(socketPath) exists and is not a socket; refusing to replace it (HTTP socket)")
        case .staleSocket, .nothing:
            break
        }
        try SocketPath.checkDirectory(of: socketPath, what: "HTTP socket")
        let responder = self.responder
        let connections = self.connections
        let server = HTTPServerBuilder.http1(
            configuration: .init(additionalChannelHandlers: [connections.watcher()], idleTimeout: .seconds(300)))
        let path = socketPath
        let mode = socketMode
        let logger = self.logger
        var applications = [
            (path, Application(
                responder: responder, server: server,
                configuration: .init(address: .unixDomainSocket(path: path), serverName: "fallbackd", backlog: 512),
                onServerRunning: { _ in
                    chmod(path, mode)
                    logger.info("HTTP facade listening on \(path)", metadata: ["facade.socket": "\(path)"])
                },
                eventLoopGroupProvider: .shared(group), logger: logger))
        ]
        if let listen {
            let bound = boundTCP
            applications.append(("\(listen)", Application(
                responder: responder, server: server,
                configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: "fallbackd", backlog: 512),
                onServerRunning: { channel in
                    let address = channel.localAddress.map { "\($0.ipAddress ?? listen.host):\($0.port ?? listen.port)" } ?? "\(listen)"
                    bound.set(address)
                    logger.info("HTTP facade listening on \(address)", metadata: ["facade.listen": "\(address)"])
                },
                eventLoopGroupProvider: .shared(group), logger: logger)))
        }
        defer { unlink(path) }
        let graceMs = self.graceMs
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                for (address, application) in applications {
                    group.addTask {
                        do {
                            try await application.run()
                        } catch let error as CancellationError {
                            throw error
                        } catch {
                            // NIO's bind error names neither the address nor the server.
                            throw ServerStartError(description: "the HTTP facade cannot serve on \(address): \(error)")
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            // Hummingbird lets running requests finish; past the grace period they are cancelled,
            // as on the JSON-RPC socket, so a stuck upstream cannot hold the shutdown.
            Task {
                try? await Task.sleep(for: .milliseconds(graceMs))
                connections.cancelAll()
            }
        }
    }
}

/// The TCP address a listener bound, once it has.
final class BoundAddress: Sendable {
    private let address = Mutex<String?>(nil)

    var value: String? { address.withLock { $0 } }

    func set(_ value: String) { address.withLock { $0 = value } }
}
