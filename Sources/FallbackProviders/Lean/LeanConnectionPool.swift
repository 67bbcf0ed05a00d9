import FallbackCore
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Where a plain-HTTP exchange goes: one pool of keep-alive connections per host and port.
struct LeanEndpoint: Hashable, Sendable {
    var host: String
    var port: Int
}

/// Every connection of ``LeanConnectionPool`` to its provider was busy until the wait ended.
struct PoolWaitTimeout: Error {}

/// Keep-alive HTTP/1.1 connections to plain-HTTP providers, per host and port: an idle one is
/// reused (one on the caller's event loop first), else a new one is opened. A provider with its own
/// `max_connections` has a hard cap: past it the caller waits, at most the connect timeout, for one
/// to come free (then ``PoolWaitTimeout``: a local limit, not the provider failing). Without one,
/// the cap is soft, as AsyncHTTPClient's: connections are opened as needed and at most `keepIdle`
/// stay open idle. Idle connections close after `idleTimeout`; one the server closed leaves the
/// pool when it closes.
final class LeanConnectionPool: Sendable {
    private struct Waiter {
        var id: UInt64
        var continuation: CheckedContinuation<LeanConnection?, any Error>
    }

    private struct Host {
        var idle: [LeanConnection] = []
        /// Open or opening connections, idle ones included.
        var open = 0
        var waiters: [Waiter] = []
    }

    private struct State {
        var hosts: [LeanEndpoint: Host] = [:]
        var nextWaiter: UInt64 = 0
        var closed = false
    }

    private enum Lease {
        case reuse(LeanConnection)
        case connect
        case wait(UInt64)
        case shutDown
    }

    let group: any EventLoopGroup
    let idleTimeout: TimeAmount
    private let state = Mutex(State())

    init(group: any EventLoopGroup, idleTimeout: TimeAmount = .seconds(60)) {
        self.group = group
        self.idleTimeout = idleTimeout
    }

    /// A connection to `endpoint` for one exchange; give it back with ``release(_:)`` once its
    /// response has ended and the connection may carry another.
    func lease(
        _ endpoint: LeanEndpoint, on loop: any EventLoop, hardCap: Int?, keepIdle: Int, connectTimeout: TimeAmount
    ) async throws -> LeanConnection {
        while true {
            let lease = state.withLock { state -> Lease in
                guard !state.closed else { return .shutDown }
                var host = state.hosts[endpoint] ?? Host()
                defer { state.hosts[endpoint] = host }
                // The caller's loop first: the exchange then never leaves its thread. Another loop's
                // idle connection only when the cap leaves no room for a new one here.
                if let index = host.idle.lastIndex(where: { $0.channel.eventLoop === loop }) {
                    return .reuse(host.idle.remove(at: index))
                }
                if host.open < hardCap.map({ max(1, $0) }) ?? .max {
                    host.open += 1
                    return .connect
                }
                if let index = host.idle.indices.last {
                    return .reuse(host.idle.remove(at: index))
                }
                state.nextWaiter &+= 1
                return .wait(state.nextWaiter)
            }
            switch lease {
            case .shutDown:
                throw CancellationError()
            case .reuse(let connection):
                guard connection.channel.isActive else {
                    // Closed by the server while idle, and not yet out of the pool.
                    connection.close()
                    continue
                }
                connection.leased()
                return connection
            case .connect:
                return try await connect(endpoint, on: loop, keepIdle: keepIdle, connectTimeout: connectTimeout)
            case .wait(let id):
                if let handed = try await wait(endpoint, id: id, on: loop, timeout: connectTimeout) {
                    return handed
                }
                // A connection closed while we waited: its slot is ours to open.
                return try await connect(endpoint, on: loop, keepIdle: keepIdle, connectTimeout: connectTimeout)
            }
        }
    }

    /// The exchange on `connection` ended cleanly: the next waiter gets it, or it waits idle.
    func release(_ connection: LeanConnection, keepIdle: Int) {
        let endpoint = connection.endpoint
        // Armed before another caller can see it idle, so its lease always finds the timer to cancel.
        connection.idle(for: idleTimeout)
        let (kept, waiter) = state.withLock { state -> (Bool, Waiter?) in
            guard !state.closed, var host = state.hosts[endpoint] else { return (false, nil) }
            defer { state.hosts[endpoint] = host }
            if !host.waiters.isEmpty { return (true, host.waiters.removeFirst()) }
            guard host.idle.count < max(1, keepIdle) else { return (false, nil) }
            host.idle.append(connection)
            return (true, nil)
        }
        if let waiter {
            connection.leased()
            waiter.continuation.resume(returning: connection)
        } else if !kept {
            connection.close()
        }
    }

    /// `connection` closed (or will not be reused): its slot goes to the next waiter, who opens a new one.
    func forget(_ connection: LeanConnection) {
        let endpoint = connection.endpoint
        let waiter = state.withLock { state -> Waiter? in
            guard var host = state.hosts[endpoint] else { return nil }
            defer { state.hosts[endpoint] = host }
            if let index = host.idle.firstIndex(where: { $0 === connection }) { host.idle.remove(at: index) }
            guard connection.markForgotten() else { return nil }
            if !host.waiters.isEmpty { return host.waiters.removeFirst() }
            host.open = max(0, host.open - 1)
            return nil
        }
        waiter?.continuation.resume(returning: nil)
    }

    /// Closes every idle connection; later leases fail with `CancellationError`.
    func shutdown() {
        let (idle, waiters) = state.withLock { state -> ([LeanConnection], [Waiter]) in
            state.closed = true
            let idle = state.hosts.values.flatMap(\.idle)
            let waiters = state.hosts.values.flatMap(\.waiters)
            state.hosts = [:]
            return (idle, waiters)
        }
        for connection in idle { connection.close() }
        for waiter in waiters { waiter.continuation.resume(throwing: CancellationError()) }
    }

    private func connect(
        _ endpoint: LeanEndpoint, on loop: any EventLoop, keepIdle: Int, connectTimeout: TimeAmount
    ) async throws -> LeanConnection {
        do {
            let pool = self
            let channel = try await ClientBootstrap(group: loop)
                .connectTimeout(connectTimeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers(leftOverBytesStrategy: .dropBytes)
                    }
                }
                .connect(host: endpoint.host, port: endpoint.port).get()
            let connection = LeanConnection(channel: channel, endpoint: endpoint, pool: pool, keepIdle: keepIdle)
            try await channel.eventLoop.submit {
                try channel.pipeline.syncOperations.addHandler(LeanExchangeHandler(connection: connection))
            }.get()
            connection.leased()
            return connection
        } catch {
            releaseSlot(endpoint)
            throw error
        }
    }

    /// A connect failed: its slot is free again.
    private func releaseSlot(_ endpoint: LeanEndpoint) {
        let waiter = state.withLock { state -> Waiter? in
            guard var host = state.hosts[endpoint] else { return nil }
            defer { state.hosts[endpoint] = host }
            if !host.waiters.isEmpty { return host.waiters.removeFirst() }
            host.open = max(0, host.open - 1)
            return nil
        }
        waiter?.continuation.resume(returning: nil)
    }

    private func wait(_ endpoint: LeanEndpoint, id: UInt64, on loop: any EventLoop, timeout: TimeAmount) async throws -> LeanConnection? {
        let timer = loop.scheduleTask(in: timeout) { [self] in
            self.dropWaiter(endpoint, id: id)?.resume(throwing: PoolWaitTimeout())
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<LeanConnection?, any Error>) in
                let enqueued = state.withLock { state -> Bool in
                    guard !state.closed, !Task.isCancelled else { return false }
                    state.hosts[endpoint, default: Host()].waiters.append(Waiter(id: id, continuation: continuation))
                    return true
                }
                if !enqueued { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            self.dropWaiter(endpoint, id: id)?.resume(throwing: CancellationError())
        }
    }

    private func dropWaiter(_ endpoint: LeanEndpoint, id: UInt64) -> CheckedContinuation<LeanConnection?, any Error>? {
        state.withLock { state in
            guard let index = state.hosts[endpoint]?.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.hosts[endpoint]?.waiters.remove(at: index).continuation
        }
    }
}
