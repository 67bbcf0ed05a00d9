import FallbackCore
import NIOCore
import NIOHTTP1
import Synchronization

/// One request and its response on the lean client: what the ``ExchangeDelegate`` reads through
/// and fails (a timer, a deadline, a cancelled caller), and the promise the caller awaits.
final class LeanExchange: ExchangeControl, Sendable {
    private enum Phase {
        case waiting
        case running(LeanConnection)
        case done
    }

    let eventLoop: any EventLoop
    let delegate: ExchangeDelegate
    private let promise: EventLoopPromise<ExchangeResult>
    private let phase = Mutex(Phase.waiting)

    init(eventLoop: any EventLoop, delegate: ExchangeDelegate) {
        self.eventLoop = eventLoop
        self.delegate = delegate
        promise = eventLoop.makePromise(of: ExchangeResult.self)
    }

    var futureResult: EventLoopFuture<ExchangeResult> { promise.futureResult }

    /// The connection that carries it; `false` when it already ended (failed while waiting).
    func attach(_ connection: LeanConnection) -> Bool {
        phase.withLock { phase in
            guard case .waiting = phase else { return false }
            phase = .running(connection)
            return true
        }
    }

    /// Ends the exchange with `reason` (once); a connection mid-response is closed, never reused.
    func fail(reason: any Error) {
        let (first, connection) = phase.withLock { phase -> (Bool, LeanConnection?) in
            switch phase {
            case .done:
                return (false, nil)
            case .waiting:
                phase = .done
                return (true, nil)
            case .running(let connection):
                phase = .done
                return (true, connection)
            }
        }
        guard first else { return }
        delegate.cancelTimers()
        connection?.close()
        promise.fail(reason)
    }

    var isDone: Bool {
        phase.withLock { phase in
            if case .done = phase { return true }
            return false
        }
    }

    func receive(head: HTTPResponseHead) {
        guard !isDone else { return }
        delegate.receiveHead(head, control: self)
    }

    func receive(body: ByteBuffer) {
        guard !isDone else { return }
        _ = delegate.receiveBody(body, control: self)
    }

    /// The response ended; returns whether the exchange ended cleanly (the connection may be reused).
    func end() -> Bool {
        let running = phase.withLock { phase -> Bool in
            guard case .running = phase else { return false }
            phase = .done
            return true
        }
        guard running else { return false }
        do {
            promise.succeed(try delegate.finish())
        } catch {
            promise.fail(error)
        }
        return true
    }
}
