import NIOCore
import Synchronization

/// The open client connections and the workers running their requests, so shutdown can wait for
/// those requests and close the connections, and `status` can count them.
final class ConnectionRegistry: Sendable {
    /// Names one connection for its whole life (object identities are reused after a close).
    typealias ID = UInt64

    private struct State {
        var nextID: ID = 0
        var channels: [ID: any Channel] = [:]
        /// Workers whose jobs may still run, the closed connections' included until they end.
        var workers: [ID: ConnectionWorker] = [:]
    }

    private let state = Mutex(State())

    func opened(_ channel: any Channel) -> ID {
        state.withLock { state in
            state.nextID += 1
            state.channels[state.nextID] = channel
            return state.nextID
        }
    }

    /// The worker of open connection `id`, created on its first deferred request; `nil` once closed.
    func worker(for id: ID) -> ConnectionWorker? {
        state.withLock { state -> ConnectionWorker? in
            guard state.channels[id] != nil else { return nil }
            if let worker = state.workers[id] { return worker }
            let worker = ConnectionWorker(onEnded: { [weak self] in
                _ = self?.state.withLock { $0.workers.removeValue(forKey: id) }
            })
            state.workers[id] = worker
            return worker
        }
    }

    /// The client sent EOF: requests already running finish, no new ones come.
    func inputClosed(_ id: ID) {
        state.withLock { $0.workers[id] }?.finish()
    }

    /// The client is gone: its requests are cancelled.
    func closed(_ id: ID) {
        let worker = state.withLock { state -> ConnectionWorker? in
            state.channels.removeValue(forKey: id)
            return state.workers[id]
        }
        worker?.cancel()
    }

    var count: Int { state.withLock { $0.channels.count } }

    /// Takes no more requests on any connection and waits until the running ones have ended.
    func finishAll() async {
        let workers = state.withLock { Array($0.workers.values) }
        for worker in workers { worker.finish() }
        for worker in workers { await worker.wait() }
    }

    /// Cancels every request still running (the grace period is over).
    func cancelAll() {
        let workers = state.withLock { Array($0.workers.values) }
        for worker in workers { worker.cancel() }
    }

    /// Closes every connection still open.
    func closeAll() async {
        let open = state.withLock { Array($0.channels.values) }
        for channel in open {
            try? await channel.close()
        }
    }
}
