#if canImport(Glibc)
import Glibc
#endif

/// Where the socket lives, and whether a daemon already answers there.
public enum SocketPath {
    /// `--socket`, then the config, then `$XDG_RUNTIME_DIR/fallbackd.sock`, then `/tmp/fallbackd-$UID.sock`.
    public static func resolve(commandLine: String?, config: String?, environment: [String: String]) -> String {
        if let commandLine, !commandLine.isEmpty { return commandLine }
        if let config, !config.isEmpty { return config }
        if let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty { return runtime + "/fallbackd.sock" }
        return "/tmp/fallbackd-\(getuid()).sock"
    }

    /// What is at the path now.
    enum Occupant: Equatable {
        case nothing
        /// A socket file nobody listens on: left by a daemon that died.
        case staleSocket
        /// A daemon accepts connections there.
        case liveDaemon
        /// Something that is not a socket: never deleted.
        case otherFile
    }

    static func probe(_ path: String) -> Occupant {
        var info = stat()
        guard lstat(path, &info) == 0 else { return .nothing }
        guard (info.st_mode & S_IFMT) == S_IFSOCK else { return .otherFile }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return .staleSocket }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.utf8.count < capacity else { return .staleSocket }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path.utf8)
            raw[path.utf8.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return connected == 0 ? .liveDaemon : .staleSocket
    }
}
