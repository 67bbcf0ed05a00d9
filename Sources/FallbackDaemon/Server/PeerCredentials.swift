#if canImport(Glibc)
import Glibc
#endif
import FallbackRPC
import NIOCore
import Synchronization

/// Who is on the other end of a Unix socket: `SO_PEERCRED` (uid, gid, pid) and the executable name
/// from `/proc/PID/comm`. TCP connections have no such thing.
enum PeerCredentials {
    /// `struct ucred`'s layout: pid, uid, gid.
    struct UCred: Sendable {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    /// Reads the peer of `channel` and hands it to `deliver` (on the channel's loop; immediately when
    /// called there). Nothing is delivered for a TCP channel or when the option cannot be read.
    static func read(_ channel: any Channel, deliver: @escaping @Sendable (RPCPeer) -> Void) {
        guard case .unixDomainSocket = channel.localAddress, let provider = channel as? any SocketOptionProvider else { return }
        let future: EventLoopFuture<UCred> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        future.whenSuccess { cred in
            deliver(RPCPeer(uid: cred.uid, gid: cred.gid, pid: cred.pid, executable: executable(of: cred.pid)))
        }
    }

    /// `/proc/PID/comm` without its newline; `nil` for pid 0 (another pid namespace) or when unreadable.
    static func executable(of pid: Int32) -> String? {
        guard pid > 0 else { return nil }
        let fd = open("/proc/\(pid)/comm", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        var bytes = buffer[..<count]
        while bytes.last == UInt8(ascii: "\n") { bytes = bytes.dropLast() }
        return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
    }
}

/// A connection's peer, set once when it opens, read by each request.
final class PeerBox: Sendable {
    private let peer = Mutex<RPCPeer?>(nil)

    var value: RPCPeer? { peer.withLock { $0 } }

    func set(_ value: RPCPeer) { peer.withLock { $0 = value } }
}
