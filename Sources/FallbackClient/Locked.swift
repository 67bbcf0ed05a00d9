#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A value guarded by a pthread mutex.
///
/// `Synchronization.Mutex` would do on Linux, but needs macOS 15 and the package supports
/// macOS 14. The mutex lives in its own allocation so its address never moves.
final class Locked<State>: @unchecked Sendable {
    // Sendable is sound: `state` is only reached through `withLock`, which holds the mutex,
    // and callers never let state escape the closure.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var state: State

    init(_ state: State) {
        self.state = state
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the state.
    func withLock<Result, Failure: Error>(
        _ body: (inout State) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state)
    }
}

/// What a client keeps between calls: the open connection, if any, and the last request id.
struct ConnectionState {
    var connection: UnixSocketConnection?
    var lastID = 0

    /// The next request id (1, 2, ...).
    mutating func nextID() -> Int {
        lastID = lastID == Int.max ? 1 : lastID + 1
        return lastID
    }

    /// The open connection if it is still alive, else a fresh one to `path`.
    mutating func liveConnection(to path: String) throws(FallbackClientError) -> UnixSocketConnection {
        if let connection, !connection.peerClosed() {
            return connection
        }
        connection = nil
        let fresh = try UnixSocketConnection.connect(path: path)
        connection = fresh
        return fresh
    }
}
