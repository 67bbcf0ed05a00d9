import FallbackRPC
import Logging
import NIOCore
import Synchronization

/// One client connection: frames lines, hands them to the dispatcher, writes replies.
///
/// Lives on the channel's event loop. Immediate replies are written at once and flushed when
/// the read burst ends; deferred requests run in the connection's worker (a task group), and
/// their notifications and replies come back to the loop in the order they were sent.
final class RPCConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let dispatcher: RPCDispatcher
    private let registry: ConnectionRegistry
    private let logger: Logger
    private var framer: LineFramer
    private var machine = ConnectionStateMachine()
    private var context: ChannelHandlerContext?
    private var needsFlush = false
    private var connectionID: ConnectionRegistry.ID?
    /// Lines from deferred work queued for the loop and not yet written.
    private let outbox = Outbox()
    /// The process on the other end, from `SO_PEERCRED`.
    private let peer = PeerBox()

    init(dispatcher: RPCDispatcher, maxLineBytes: Int, registry: ConnectionRegistry, logger: Logger) {
        self.dispatcher = dispatcher
        self.registry = registry
        self.logger = logger
        framer = LineFramer(maxLineBytes: maxLineBytes)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        connectionID = registry.opened(context.channel)
        let peer = self.peer
        PeerCredentials.read(context.channel) { peer.set($0) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        machine.channelClosed()
        // The client left: its running requests are cancelled (their attempts are logged as such).
        if let connectionID { registry.closed(connectionID) }
        self.context = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard machine.isReading else { return }
        var bytes = unwrapInboundIn(data)
        framer.append(&bytes)
        do {
            while machine.isReading, let line = try framer.nextLine() {
                handle(line: line, context: context)
            }
        } catch {
            rejectOversizedLine(error, context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushIfNeeded(context: context)
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case ChannelEvent.inputClosed = event else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        do {
            if machine.isReading, let last = try framer.finish() { handle(line: last, context: context) }
        } catch {
            rejectOversizedLine(error, context: context)
            return
        }
        flushIfNeeded(context: context)
        if let connectionID { registry.inputClosed(connectionID) }
        if machine.inputClosed() == .close { context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A reset or broken pipe from a vanished client: close quietly, the daemon goes on.
        logger.debug("connection error", metadata: ["rpc.error": "\(error)"])
        machine.channelClosed()
        context.close(promise: nil)
    }

    private func handle(line: ByteBuffer, context: ChannelHandlerContext) {
        let send = sender(loop: context.eventLoop)
        let outcome = line.withUnsafeReadableBytes { bytes in
            dispatcher.handle(bytes, peer: peer.value, notify: { send(.line($0)) })
        }
        switch outcome {
        case .reply(let reply):
            write(reply, context: context)
        case .deferred(let work):
            guard let connectionID, let worker = registry.worker(for: connectionID),
                worker.submit({ send(.reply(await work.run())) })
            else {
                // The connection's worker has ended (shutdown after the grace period): nothing will run.
                work.abandon()
                return
            }
            machine.deferredStarted()
        case .none:
            break
        }
    }

    /// What deferred work hands back to the loop.
    enum Delivery: Sendable {
        /// A notification: written, the request is still running.
        case line(JSON)
        /// The request is done; `nil` when there is nothing to write.
        case reply(JSON?)
    }

    /// Sends deliveries to this handler on `loop`, in the order they are made: directly when
    /// already on the loop with nothing queued, else through the loop's queue.
    private func sender(loop: any EventLoop) -> @Sendable (Delivery) -> Void {
        let bound = NIOLoopBound(self, eventLoop: loop)
        let outbox = self.outbox
        return { delivery in
            if loop.inEventLoop, outbox.queued.load(ordering: .acquiring) == 0 {
                bound.value.deliver(delivery)
                return
            }
            outbox.queued.add(1, ordering: .releasing)
            loop.execute {
                outbox.queued.subtract(1, ordering: .releasing)
                bound.value.deliver(delivery)
            }
        }
    }

    private func deliver(_ delivery: Delivery) {
        switch delivery {
        case .line(let notification):
            guard machine.isWriting, let context else { return }
            write(notification, context: context)
            flushIfNeeded(context: context)
        case .reply(let reply):
            let (shouldWrite, action) = machine.deferredFinished()
            guard let context else { return }
            if shouldWrite, let reply {
                write(reply, context: context)
            }
            flushIfNeeded(context: context)
            if action == .close { context.close(promise: nil) }
        }
    }

    private func write(_ reply: JSON, context: ChannelHandlerContext) {
        let buffer = reply.withSerializedBytes { bytes in
            var buffer = context.channel.allocator.buffer(capacity: bytes.count + 1)
            buffer.writeBytes(bytes)
            buffer.writeInteger(UInt8(ascii: "\n"))
            return buffer
        }
        context.write(wrapOutboundOut(buffer), promise: nil)
        needsFlush = true
    }

    private func flushIfNeeded(context: ChannelHandlerContext) {
        guard needsFlush else { return }
        needsFlush = false
        context.flush()
    }

    private func rejectOversizedLine(_ error: LineFramer.LineTooLong, context: ChannelHandlerContext) {
        logger.notice("closing a connection that sent an oversized line", metadata: ["rpc.max_line_bytes": "\(error.maxLineBytes)"])
        let reply = RPCResponse.failure(
            id: .null,
            error: .invalidRequest(
                "request line exceeds \(error.maxLineBytes) bytes", data: ["max_line_bytes": .int(error.maxLineBytes)]
            )
        )
        write(reply, context: context)
        flushIfNeeded(context: context)
        if machine.lineTooLong() == .close { context.close(promise: nil) }
    }
}

/// Counts deliveries queued on the loop, so a direct write never overtakes a queued one.
final class Outbox: Sendable {
    let queued = Atomic<Int>(0)
}
