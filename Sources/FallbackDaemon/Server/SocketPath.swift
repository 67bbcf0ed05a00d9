#if canImport(Glibc)
import Glibc
#endif

/// Where the socket lives, and whether a daemon already answers there.
public enum SocketPath {
    /// `--socket`, then `$FALLBACKD_SOCKET`, then the config, then the defaults (see ``DefaultPaths/socket(environment:uid:)``).
    public static func resolve(commandLine: String?, config: String?, environment: [String: String]) -> String {
        if let commandLine, !commandLine.isEmpty { return commandLine }
        if let variable = environment["FALLBACKD_SOCKET"], !variable.isEmpty { return variable }
        if let config, !config.isEmpty { return config }
        return DefaultPaths.socket(environment: environment)
    }

    /// The longest socket path served: SwiftNIO refuses more than 103 bytes (macOS's `sun_path` limit)
    /// although Linux allows 107.
    static let maxPathBytes = 103

    /// Throws a start-up error naming `path` when its directory is missing or not writable, or the
    /// path is too long for a Unix socket: a clear message instead of `bind`'s raw errno.
    static func checkDirectory(of path: String, what: String) throws(ServerStartError) {
        guard path.utf8.count <= maxPathBytes else {
            throw ServerStartError(description: "\(what) path \(path) is \(path.utf8.count) bytes; fallbackd's socket paths allow at most \(maxPathBytes) (use a shorter directory)")
        }
        let directory = path.contains("/") ? String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]) : "."
        let dir = directory.isEmpty ? "/" : directory
        var info = stat()
        guard stat(dir, &info) == 0 else {
            throw ServerStartError(description: "cannot create the \(what) \(path): directory \(dir) does not exist (\(String(cString: strerror(errno))))")
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw ServerStartError(description: "cannot create the \(what) \(path): \(dir) is not a directory")
        }
        guard access(dir, W_OK | X_OK) == 0 else {
            throw ServerStartError(description: "cannot create the \(what) \(path): directory \(dir) is not writable by uid \(getuid()) (\(String(cString: strerror(errno))))")
        }
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
