import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing

@testable import FallbackProviders

/// A tiny HTTP/1.1 server on 127.0.0.1 for transport tests.
final class LoopbackServer: Sendable {
    /// What the server does with each request.
    enum Mode: Sendable {
        /// Answers `status` with `body`.
        case respond(status: Int, body: String)
        /// Answers `status` with `body` and `connection: close`, then closes.
        case respondAndClose(status: Int, body: String)
        /// Sends the response head and a first body chunk, then never finishes the body.
        case stallAfterHeaders
        /// Never answers at all.
        case stallBeforeHeaders
    }

    let channel: any Channel
    private let accepted: Counter
    var port: Int { channel.localAddress?.port ?? 0 }
    var baseURL: String { "http://127.0.0.1:\(port)" }
    /// Connections accepted so far.
    var connections: Int { accepted.value.load(ordering: .relaxed) }

    final class Counter: Sendable {
        let value = Atomic(0)
        /// Each accepted connection's running count, for ``connected(_:)``.
        let accepts = AsyncStream.makeStream(of: Int.self)
    }

    /// Waits until the server has accepted `count` connections (a barrier, no polling).
    func connected(_ count: Int) async {
        if connections >= count { return }
        for await seen in accepted.accepts.stream where seen >= count { return }
    }

    private init(channel: any Channel, accepted: Counter) {
        self.channel = channel
        self.accepted = accepted
    }

    static func start(group: any EventLoopGroup, mode: Mode) async throws -> LoopbackServer {
        let accepted = Counter()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let seen = accepted.value.add(1, ordering: .relaxed).newValue
                accepted.accepts.continuation.yield(seen)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(LoopbackHandler(mode: mode))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return LoopbackServer(channel: channel, accepted: accepted)
    }

    func stop() async {
        try? await channel.close().get()
    }
}

private final class LoopbackHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let mode: LoopbackServer.Mode

    init(mode: LoopbackServer.Mode) { self.mode = mode }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = unwrapInboundIn(data) else { return }
        switch mode {
        case .respond(let status, let body), .respondAndClose(let status, let body):
            var headers = HTTPHeaders([("content-type", "application/json")])
            headers.add(name: "content-length", value: String(body.utf8.count))
            let closing: Bool
            if case .respondAndClose = mode { closing = true } else { closing = false }
            if closing { headers.add(name: "connection", value: "close") }
            let head = HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: headers)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
            let sent = context.eventLoop.makePromise(of: Void.self)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: sent)
            if closing {
                let channel = context.channel
                sent.futureResult.whenComplete { _ in channel.close(promise: nil) }
            }
        case .stallAfterHeaders:
            let headers = HTTPHeaders([("content-type", "application/json"), ("content-length", "100000")])
            let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: #"{"id":"#)))), promise: nil)
        case .stallBeforeHeaders:
            break
        }
    }
}

extension LoopbackServer {
    /// Runs `body` with a one-thread group, a transport on it, and a loopback server in `mode`;
    /// an error `body` throws is recorded, and everything is shut down after.
    static func withTransport(
        _ mode: Mode, _ body: (HTTPTransport, LoopbackServer) async throws -> Void
    ) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let transport = HTTPTransport(group: group)
        let server = try await LoopbackServer.start(group: group, mode: mode)
        do {
            try await body(transport, server)
        } catch {
            Issue.record(error)
        }
        await transport.shutdown()
        await server.stop()
        try await group.shutdownGracefully()
    }
}
