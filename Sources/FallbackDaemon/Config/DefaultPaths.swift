#if canImport(Glibc)
import Glibc
#endif

/// Where fallbackd looks for its files when the command line does not say: the XDG base
/// directories for a user, `/etc/fallbackd`, `/var/lib/fallbackd` and `/run/fallbackd` for root or
/// a system service, systemd's `$STATE_DIRECTORY`/`$RUNTIME_DIRECTORY` when it provides them.
/// Never the working directory.
public enum DefaultPaths {
    /// The config files tried in order: `$FALLBACKD_CONFIG`, then `$XDG_CONFIG_HOME/fallbackd/fallbackd.toml`
    /// (`~/.config/...`) for a user, then `/etc/fallbackd/fallbackd.toml`.
    public static func configCandidates(environment: [String: String], uid: uid_t = getuid()) -> [String] {
        var candidates: [String] = []
        if let explicit = environment["FALLBACKD_CONFIG"], !explicit.isEmpty { candidates.append(explicit) }
        if uid != 0, let base = xdg("XDG_CONFIG_HOME", fallback: ".config", environment: environment) {
            candidates.append(base + "/fallbackd/fallbackd.toml")
        }
        candidates.append("/etc/fallbackd/fallbackd.toml")
        return candidates
    }

    /// The call log when the config names none: `$STATE_DIRECTORY/fallbackd.sqlite` under systemd,
    /// `/var/lib/fallbackd/fallbackd.sqlite` for root, else `$XDG_STATE_HOME/fallbackd/fallbackd.sqlite`
    /// (`~/.local/state/...`).
    public static func database(environment: [String: String], uid: uid_t = getuid()) -> String {
        if let state = environment["STATE_DIRECTORY"]?.split(separator: ":").first, !state.isEmpty {
            return state + "/fallbackd.sqlite"
        }
        if uid != 0, let base = xdg("XDG_STATE_HOME", fallback: ".local/state", environment: environment) {
            return base + "/fallbackd/fallbackd.sqlite"
        }
        return "/var/lib/fallbackd/fallbackd.sqlite"
    }

    /// The JSON-RPC socket when neither the command line nor the config names one:
    /// `$RUNTIME_DIRECTORY/fallbackd.sock` under systemd, `$XDG_RUNTIME_DIR/fallbackd.sock`,
    /// `/run/fallbackd/fallbackd.sock` for root, else `/tmp/fallbackd-$UID.sock`.
    public static func socket(environment: [String: String], uid: uid_t = getuid()) -> String {
        if let runtime = environment["RUNTIME_DIRECTORY"]?.split(separator: ":").first, !runtime.isEmpty {
            return runtime + "/fallbackd.sock"
        }
        if let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty { return runtime + "/fallbackd.sock" }
        if uid == 0 { return "/run/fallbackd/fallbackd.sock" }
        return "/tmp/fallbackd-\(uid).sock"
    }

    /// A path from the config file: relative ones are relative to the file's directory, not the
    /// working directory, so the daemon finds the same files wherever it starts.
    public static func resolve(_ path: String, relativeTo configFile: String) -> String {
        guard !path.hasPrefix("/"), let slash = configFile.lastIndex(of: "/") else {
            if path.hasPrefix("/") { return path }
            return absolute(path)
        }
        let directory = String(configFile[..<slash])
        return (directory.hasPrefix("/") ? directory : absolute(directory)) + "/" + path
    }

    static func absolute(_ path: String) -> String {
        guard !path.hasPrefix("/") else { return path }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return path }
        let cwd = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return path == "." ? cwd : cwd + "/" + path
    }

    static func xdg(_ variable: String, fallback: String, environment: [String: String]) -> String? {
        if let value = environment[variable], value.hasPrefix("/") { return value }
        guard let home = environment["HOME"], !home.isEmpty else { return nil }
        return home + "/" + fallback
    }
}
