#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a socket operation stopped; mapped to `FallbackClientError` by the client.
enum TransportFailure: Error {
    /// The peer closed the connection (EOF, EPIPE, ECONNRESET) before a full line arrived.
    case closed
    /// The peer had closed the connection before any byte of the request was written: resending is safe.
    case closedBeforeSending
    /// The deadline passed.
    case timeout
    /// Any other system error, with its description.
    case system(String)
    /// The peer sent a line longer than the client accepts.
    case lineTooLong(Int)
    /// The peer sent something that is not a JSON-RPC reply.
    case malformed(String)
}

/// One blocking stream connection to a Unix socket with newline framing.
///
/// Not thread-safe: `FallbackClient` only touches it while holding its lock.
final class UnixSocketConnection {
    /// Replies longer than this are refused (the daemon's own request cap is 8 MiB).
    static let maxLineBytes = 64 << 20
    private static let chunkSize = 64 << 10

    private let fd: Int32
    /// Bytes received after the last returned line.
    private var buffer: [UInt8] = []
    /// How far `buffer` is known to hold no newline.
    private var scanned = 0
    /// Reused receive space.
    private var chunk = [UInt8](repeating: 0, count: UnixSocketConnection.chunkSize)

    private init(fd: Int32) { self.fd = fd }

    deinit { _ = close(fd) }

    /// Connects to `path`; throws `.unavailable` when nothing listens there.
    static func connect(path: String) throws(FallbackClientError) -> UnixSocketConnection {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard !pathBytes.isEmpty, pathBytes.count < capacity else {
            throw .unavailable(path: path, reason: "socket path must be 1 to \(capacity - 1) bytes long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        #if canImport(Darwin)
        let fd = socket(AF_UNIX, SOCK_STREAM, 0)
        #else
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #endif
        guard fd >= 0 else { throw .io("socket(): \(errnoDescription())") }
        let connection = UnixSocketConnection(fd: fd)
        #if canImport(Darwin)
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glue.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else { throw .unavailable(path: path, reason: errnoDescription()) }
        return connection
    }

    /// Whether the peer has closed this (idle) connection; checked before reusing it.
    func peerClosed() -> Bool {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, 0) > 0 else { return false }
        if descriptor.revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 && descriptor.revents & Int16(POLLIN) == 0 {
            return true
        }
        var byte: UInt8 = 0
        let count = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        if count == 0 { return true }
        return count < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR
    }

    /// Writes all of `bytes` before `deadline`.
    func send(_ bytes: [UInt8], before deadline: ContinuousClock.Instant) throws(TransportFailure) {
        var offset = 0
        while offset < bytes.count {
            try wait(for: Int16(POLLOUT), before: deadline)
            let sent = bytes.withUnsafeBytes { raw in
                Glue.send(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset, Glue.sendFlags)
            }
            if sent >= 0 {
                offset += sent
                continue
            }
            switch errno {
            case EINTR, EAGAIN, EWOULDBLOCK: continue
            case EPIPE, ECONNRESET, ENOTCONN: throw offset == 0 ? .closedBeforeSending : .closed
            default: throw .system("send(): \(errnoDescription())")
            }
        }
    }

    /// The next line (without `\n` or `\r\n`) received before `deadline`.
    func readLine(before deadline: ContinuousClock.Instant) throws(TransportFailure) -> [UInt8] {
        while true {
            if let newline = buffer[scanned...].firstIndex(of: UInt8(ascii: "\n")) {
                var end = newline
                if end > 0 && buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                let line = Array(buffer[0..<end])
                buffer.removeSubrange(0...newline)
                scanned = 0
                return line
            }
            scanned = buffer.count
            guard buffer.count <= Self.maxLineBytes else { throw .lineTooLong(buffer.count) }
            try wait(for: Int16(POLLIN), before: deadline)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                buffer.append(contentsOf: chunk[0..<count])
            } else if count == 0 {
                throw .closed
            } else {
                switch errno {
                case EINTR, EAGAIN, EWOULDBLOCK: continue
                case ECONNRESET, ENOTCONN: throw .closed
                default: throw .system("recv(): \(errnoDescription())")
                }
            }
        }
    }

    /// Blocks in `poll` until `events` are ready or the deadline passes.
    private func wait(for events: Int16, before deadline: ContinuousClock.Instant) throws(TransportFailure) {
        while true {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else { throw .timeout }
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&descriptor, 1, Self.milliseconds(remaining))
            if ready > 0 { return }  // readable, writable, or HUP/ERR: the next call reports which
            if ready < 0 && errno != EINTR { throw .system("poll(): \(errnoDescription())") }
        }
    }

    /// `duration` in whole milliseconds for `poll`, rounded up, at least 1.
    private static func milliseconds(_ duration: Duration) -> Int32 {
        let (seconds, attoseconds) = duration.components
        let millis = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: max(1, millis))
    }
}

/// The C library's calls whose names the connection's methods shadow.
enum Glue {
    #if canImport(Darwin)
    static let sendFlags: Int32 = 0
    #else
    static let sendFlags = Int32(MSG_NOSIGNAL)
    #endif

    static func connect(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
        #if canImport(Darwin)
        Darwin.connect(fd, address, length)
        #elseif canImport(Musl)
        Musl.connect(fd, address, length)
        #else
        Glibc.connect(fd, address, length)
        #endif
    }

    static func send(_ fd: Int32, _ bytes: UnsafeRawPointer?, _ count: Int, _ flags: Int32) -> Int {
        #if canImport(Darwin)
        Darwin.send(fd, bytes, count, flags)
        #elseif canImport(Musl)
        Musl.send(fd, bytes, count, flags)
        #else
        Glibc.send(fd, bytes, count, flags)
        #endif
    }
}

/// `strerror(errno)`, read immediately after the failing call.
func errnoDescription(_ code: Int32 = errno) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return String(cString: text)
}
