#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import FallbackRPC

/// A Unix-socket client for tests: writes raw bytes, reads `\n`-terminated lines with a timeout.
/// Reads block a private dispatch queue, never the cooperative pool the daemon's tasks run on.
final class LineSocket: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let fd: Int32
    private var pending: [UInt8] = []
    private let queue = DispatchQueue(label: "line-socket")

    init(path: String, timeoutMs: Int = 10_000) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path.utf8)
            raw[path.utf8.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else {
            close(fd)
            throw Failure(description: "connect(\(path)) failed: errno \(errno)")
        }
        var timeout = timeval(tv_sec: timeoutMs / 1000, tv_usec: (timeoutMs % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ text: String) throws {
        var bytes = Array(text.utf8)
        try sendBytes(&bytes)
    }

    func sendBytes(_ bytes: inout [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw Failure(description: "send failed: errno \(errno)") }
            offset += sent
        }
    }

    /// Sends one request line.
    func request(_ json: JSON) throws {
        try send(json.serialized + "\n")
    }

    /// The next line, or `nil` at EOF. Throws on timeout.
    func readLine() async throws -> String? {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try self.blockingReadLine() }) }
        }
    }

    private func blockingReadLine() throws -> String? {
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { return nil }
            guard count > 0 else { throw Failure(description: "recv failed or timed out: errno \(errno)") }
            pending.append(contentsOf: chunk[..<count])
        }
    }

    /// The next reply, parsed.
    func readReply() async throws -> JSON {
        guard let line = try await readLine() else { throw Failure(description: "connection closed before a reply") }
        return try JSON.parse(line)
    }

    /// Sends a request and reads its reply (no pipelining).
    func call(_ method: String, params: JSON? = nil, id: Int = 1) async throws -> JSON {
        var request: JSON = ["jsonrpc": "2.0", "id": .int(id), "method": .string(method)]
        if let params { request["params"] = params }
        try self.request(request)
        return try await readReply()
    }

    /// Closes the sending side, as `socat` does when its stdin ends.
    func shutdownWrite() {
        shutdown(fd, Int32(SHUT_WR))
    }
}
