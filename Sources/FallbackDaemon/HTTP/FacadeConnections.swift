import NIOCore
import Synchronization

/// One HTTP connection's requests: a client that disconnects cancels the work it started, as on
/// the JSON-RPC socket.
final class FacadeConnection: Sendable {
    private struct State {
        var closed = false
        var nextToken = 0
        var cancels: [Int: @Sendable () -> Void] = [:]
    }

    private let state = Mutex(State())
    /// The process on the other end of a Unix socket connection.
    let peer = PeerBox()

    /// Runs `body` in a task that is cancelled when the connection closes or the caller is cancelled.
    func run<T: Sendable>(_ body: @escaping @Sendable () async -> T) async -> T {
        let task = Task { await body() }
        let token = register { task.cancel() }
        defer { unregister(token) }
        return await withTaskCancellationHandler { await task.value } onCancel: { task.cancel() }
    }

    /// Calls `cancel` when the connection closes (at once when it already has); returns a token for `unregister`.
    func register(_ cancel: @escaping @Sendable () -> Void) -> Int {
        let token = state.withLock { state -> Int? in
            guard !state.closed else { return nil }
            state.nextToken += 1
            state.cancels[state.nextToken] = cancel
            return state.nextToken
        }
        guard let token else {
            cancel()
            return -1
        }
        return token
    }

    func unregister(_ token: Int) {
        _ = state.withLock { $0.cancels.removeValue(forKey: token) }
    }

    func close() {
        let cancels = state.withLock { state -> [@Sendable () -> Void] in
            state.closed = true
            defer { state.cancels = [:] }
            return Array(state.cancels.values)
        }
        for cancel in cancels { cancel() }
    }
}

/// Open HTTP connections by channel, fed by ``FacadeConnectionWatcher``.
final class FacadeConnections: Sendable {
    private let open = Mutex<[ObjectIdentifier: FacadeConnection]>([:])

    /// The connection `channel` carries; a detached one (never cancelled) if the watcher did not see it.
    func connection(for channel: any Channel) -> FacadeConnection {
        open.withLock { $0[ObjectIdentifier(channel)] } ?? FacadeConnection()
    }

    fileprivate func opened(_ channel: any Channel) {
        let connection = FacadeConnection()
        let added = open.withLock { open -> Bool in
            guard open[ObjectIdentifier(channel)] == nil else { return false }
            open[ObjectIdentifier(channel)] = connection
            return true
        }
        if added { PeerCredentials.read(channel) { connection.peer.set($0) } }
    }

    fileprivate func closed(_ channel: any Channel) {
        open.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }?.close()
    }

    var count: Int { open.withLock { $0.count } }

    /// Cancels every running request (the shutdown grace period is over).
    func cancelAll() {
        let all = open.withLock { Array($0.values) }
        for connection in all { connection.close() }
    }

    /// A handler for each connection's pipeline: it tells the registry when the connection opens and closes.
    func watcher() -> FacadeConnectionWatcher { FacadeConnectionWatcher(connections: self) }
}

/// Passes HTTP parts through untouched; registers its channel while it is open.
final class FacadeConnectionWatcher: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    // Never unwrapped: parts are forwarded as they came.
    typealias InboundIn = NIOAny

    let connections: FacadeConnections

    init(connections: FacadeConnections) {
        self.connections = connections
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { connections.opened(context.channel) }
    }

    func channelActive(context: ChannelHandlerContext) {
        connections.opened(context.channel)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        connections.closed(context.channel)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        connections.closed(context.channel)
    }
}
