import FallbackRPC
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the fake daemon does with one request.
enum FakeAction: Sendable {
    /// Replies `{"jsonrpc":"2.0","id":ID,"result":...}`.
    case result(JSON)
    /// Replies with an error object for the request's id.
    case error(RPCError)
    /// Sends these lines verbatim (each gets a newline).
    case lines([String])
    /// Replies with the result, then closes the connection.
    case resultThenClose(JSON)
    /// Closes the connection without replying.
    case close
    /// Never replies (the connection stays open).
    case silent
}

/// An in-process JSON-RPC server on a temporary Unix socket, one connection at a time,
/// served by a thread with plain POSIX calls.
final class FakeServer: @unchecked Sendable {
    // Sendable is sound: mutable state is only touched under `lock`.
    let path: String
    private let listenFD: Int32
    private let handler: @Sendable (_ request: JSON, _ index: Int) -> FakeAction
    private let lock = NSLock()
    private var stopRequested = false
    private var recorded: [JSON] = []
    private var accepted = 0
    private var closedConnections = 0
    private let finished = DispatchSemaphore(value: 0)

    /// Starts listening; `handler` gets each request and its 0-based index across connections.
    init(_ handler: @escaping @Sendable (_ request: JSON, _ index: Int) -> FakeAction) throws {
        path = "/tmp/fbc-\(getpid())-\(UUID().uuidString.prefix(8)).sock"
        self.handler = handler
        listenFD = try Self.listen(on: path)
        Thread { [self] in
            serveUntilStopped()
            finished.signal()
        }.start()
    }

    /// Requests received so far.
    var requests: [JSON] { lock.withLock { recorded } }
    /// Connections accepted so far.
    var connectionCount: Int { lock.withLock { accepted } }
    /// Connections the server has closed.
    var closedCount: Int { lock.withLock { closedConnections } }

    /// Waits (polling, bounded at 60 s) until the server has closed `count` connections.
    func waitUntilClosed(_ count: Int) {
        for _ in 0..<60_000 where closedCount < count { usleep(1_000) }
    }

    /// Stops the thread, closes the socket and removes its file.
    func stop() {
        lock.withLock { stopRequested = true }
        finished.wait()
        close(listenFD)
        unlink(path)
    }

    private var isStopped: Bool { lock.withLock { stopRequested } }

    static func listen(on path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard fd >= 0, bound == 0, Glibc.listen(fd, 16) == 0 else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        return fd
    }

    private func serveUntilStopped() {
        while !isStopped {
            guard Self.waitReadable(listenFD) else { continue }
            let fd = accept(listenFD, nil, nil)
            guard fd >= 0 else { continue }
            lock.withLock { accepted += 1 }
            serve(fd)
            close(fd)
            lock.withLock { closedConnections += 1 }
        }
    }

    /// Answers requests on one connection until EOF, a closing action, or stop.
    private func serve(_ fd: Int32) {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while !isStopped {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                guard let request = try? JSON.parse(line) else { continue }
                let index = lock.withLock { () -> Int in
                    recorded.append(request)
                    return recorded.count - 1
                }
                if !respond(to: request, with: handler(request, index), on: fd) { return }
                continue
            }
            guard Self.waitReadable(fd) else { continue }
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return }
            buffer += chunk[..<count]
        }
    }

    /// Carries out `action`; `false` when the connection is to be closed.
    private func respond(to request: JSON, with action: FakeAction, on fd: Int32) -> Bool {
        let id = request["id"] ?? .null
        switch action {
        case .result(let result):
            send(["jsonrpc": "2.0", "id": id, "result": result], on: fd)
        case .error(let error):
            send(["jsonrpc": "2.0", "id": id, "error": error.json], on: fd)
        case .lines(let lines):
            for line in lines { write(Array((line + "\n").utf8), on: fd) }
        case .resultThenClose(let result):
            send(["jsonrpc": "2.0", "id": id, "result": result], on: fd)
            return false
        case .close:
            return false
        case .silent:
            break
        }
        return true
    }

    private func send(_ reply: JSON, on fd: Int32) {
        write(reply.serializedBytes + [UInt8(ascii: "\n")], on: fd)
    }

    private func write(_ bytes: [UInt8], on fd: Int32) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            guard sent > 0 else { return }
            offset += sent
        }
    }

    /// Polls `fd` for input for up to 50 ms, so the stop flag is seen promptly.
    private static func waitReadable(_ fd: Int32) -> Bool {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 50) > 0
    }
}
