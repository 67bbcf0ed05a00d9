import FallbackRPC
import Logging
import NIOCore

/// One client connection: frames lines, hands them to the dispatcher, writes replies.
///
/// Lives on the channel's event loop. Immediate replies are written at once and flushed when
/// the read burst ends; deferred replies hop back to the loop when their task is done.
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
        registry.opened(context.channel)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        machine.channelClosed()
        registry.closed(context.channel)
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
        if machine.inputClosed() == .close { context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A reset or broken pipe from a vanished client: close quietly, the daemon goes on.
        logger.debug("connection error", metadata: ["rpc.error": "\(error)"])
        machine.channelClosed()
        context.close(promise: nil)
    }

    private func handle(line: ByteBuffer, context: ChannelHandlerContext) {
        let loop = context.eventLoop
        let bound = NIOLoopBound(self, eventLoop: loop)
        let outcome = line.withUnsafeReadableBytes { bytes in
            dispatcher.handle(bytes) { reply in
                // Tasks usually finish on this connection's own loop: deliver without another hop.
                if loop.inEventLoop {
                    bound.value.deliver(reply)
                } else {
                    loop.execute { bound.value.deliver(reply) }
                }
            }
        }
        switch outcome {
        case .reply(let reply):
            write(reply, context: context)
        case .deferred:
            machine.deferredStarted()
        case .none:
            break
        }
    }

    private func deliver(_ reply: JSON?) {
        let (shouldWrite, action) = machine.deferredFinished()
        guard let context else { return }
        if shouldWrite, let reply {
            write(reply, context: context)
        }
        flushIfNeeded(context: context)
        if action == .close { context.close(promise: nil) }
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
