import FallbackCore
import NIOCore
import NIOHTTP1
import Synchronization

/// One keep-alive HTTP/1.1 connection of ``LeanConnectionPool``: carries one exchange at a time.
final class LeanConnection: Sendable {
    let channel: any Channel
    let endpoint: LeanEndpoint
    private let pool: LeanConnectionPool
    /// Idle connections its host keeps at most.
    let keepIdle: Int
    private let idleTimer = Mutex<Scheduled<Void>?>(nil)
    private let forgotten = Mutex(false)

    init(channel: any Channel, endpoint: LeanEndpoint, pool: LeanConnectionPool, keepIdle: Int) {
        self.keepIdle = keepIdle
        self.channel = channel
        self.endpoint = endpoint
        self.pool = pool
    }

    /// Sends `head` and `body` and hands the response to `exchange` (on the channel's loop).
    func send(_ head: HTTPRequestHead, body: ByteBuffer, to exchange: LeanExchange) {
        let channel = self.channel
        let begin: @Sendable () -> Void = {
            guard let handler = try? channel.pipeline.syncOperations.handler(type: LeanExchangeHandler.self) else {
                exchange.fail(reason: ChannelError.ioOnClosedChannel)
                self.close()
                return
            }
            handler.begin(exchange, head: head, body: body)
        }
        // Already on the connection's thread (the usual case): no hop through its task queue.
        if channel.eventLoop.inEventLoop { begin() } else { channel.eventLoop.execute(begin) }
    }

    /// Taken from the pool (or new): no idle close while it works.
    func leased() {
        idleTimer.withLock { timer in
            timer?.cancel()
            timer = nil
        }
    }

    /// Back in the pool: closes after `timeout` unless leased again.
    func idle(for timeout: TimeAmount) {
        let timer = channel.eventLoop.scheduleTask(in: timeout) { [self] in self.close() }
        idleTimer.withLock { $0 = timer }
    }

    /// The response ended: back to the pool when the connection may carry another, else closed.
    func finished(reusable: Bool) {
        if reusable, channel.isActive {
            pool.release(self, keepIdle: keepIdle)
        } else {
            close()
        }
    }

    func close() {
        pool.forget(self)
        channel.close(promise: nil)
    }

    /// The pool forgets a connection once; returns whether this is the first time.
    func markForgotten() -> Bool {
        forgotten.withLock { done in
            defer { done = true }
            return !done
        }
    }
}

/// Reads the responses of one connection into its current exchange.
final class LeanExchangeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let connection: LeanConnection
    private var exchange: LeanExchange?
    private var keepAlive = true
    private var context: ChannelHandlerContext?

    init(connection: LeanConnection) {
        self.connection = connection
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Writes the request; the response goes to `exchange`.
    func begin(_ exchange: LeanExchange, head: HTTPRequestHead, body: ByteBuffer) {
        guard let context, context.channel.isActive else {
            exchange.fail(reason: ChannelError.ioOnClosedChannel)
            connection.close()
            return
        }
        guard exchange.attach(connection) else {
            // It ended while waiting for the connection (deadline, cancelled): nothing was sent.
            connection.finished(reusable: true)
            return
        }
        self.exchange = exchange
        keepAlive = head.isKeepAlive
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if body.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        written.futureResult.whenFailure { error in handler.value.failCurrent(error) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            // 1xx heads announce the real one; NIO's decoder passes 100-continue through.
            if head.status.code >= 100, head.status.code < 200, head.status != .switchingProtocols { return }
            keepAlive = keepAlive && head.isKeepAlive
            exchange?.receive(head: head)
        case .body(let buffer):
            exchange?.receive(body: buffer)
        case .end:
            guard let finished = exchange else { return }
            exchange = nil
            let clean = finished.end()
            connection.finished(reusable: clean && keepAlive)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failCurrent(ChannelError.eof)
        connection.close()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A reset is the provider's doing, not a stale pooled connection (those end in an EOF): no retry.
        failCurrent(error)
        connection.close()
    }

    private func failCurrent(_ error: any Error) {
        guard let current = exchange else { return }
        exchange = nil
        current.fail(reason: error)
    }
}
