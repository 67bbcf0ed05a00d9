import FallbackProviders

/// `[facade]`: the OpenAI-compatible HTTP endpoint.
public struct FacadeConfig: Sendable, Equatable {
    /// Serve HTTP at all (on the Unix socket, and on `listen` when set).
    public var enabled = true
    /// The HTTP Unix socket; `nil` puts it beside the JSON-RPC socket (`fallbackd-http.sock`).
    public var socketPath: String?
    /// A TCP address (`127.0.0.1:8787`); `nil` serves the Unix socket only.
    public var listen: HostPort?
    /// Accept a non-loopback `listen` address (requires `token`).
    public var allowRemote = false
    /// The bearer token TCP callers must send (`Authorization: Bearer ...`); never logged.
    public var token: APIKey?
    /// A request naming a pool model falls back along the default chain after it.
    public var poolModelFallbacks = true
    /// The largest request body accepted (413 above it).
    public var maxBodyBytes = DaemonConfig.defaultMaxLineBytes

    public init() {}

    /// Where the HTTP socket lives for JSON-RPC socket `rpcSocket`.
    public func resolvedSocketPath(rpcSocket: String) -> String {
        if let socketPath { return socketPath }
        let base = rpcSocket.hasSuffix(".sock") ? String(rpcSocket.dropLast(5)) : rpcSocket
        return base + "-http.sock"
    }

    public static func == (lhs: FacadeConfig, rhs: FacadeConfig) -> Bool {
        lhs.enabled == rhs.enabled && lhs.socketPath == rhs.socketPath && lhs.listen == rhs.listen
            && lhs.allowRemote == rhs.allowRemote && lhs.token?.reveal() == rhs.token?.reveal()
            && lhs.poolModelFallbacks == rhs.poolModelFallbacks && lhs.maxBodyBytes == rhs.maxBodyBytes
    }
}

/// A `host:port` pair; IPv6 hosts in brackets (`[::1]:8787`).
public struct HostPort: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init?(_ text: String) {
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        }
        guard !hostPart.isEmpty, let port = Int(portPart), (0...65_535).contains(port) else { return nil }
        host = String(hostPart)
        self.port = port
    }

    /// Whether the host is a loopback address or `localhost`.
    public var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

enum FacadeConfigParser {
    static func parse(_ top: inout TOMLReader, environment: [String: String], warnings: inout [String]) throws(ConfigError) -> FacadeConfig {
        var config = FacadeConfig()
        guard var reader = try top.subtable("facade") else { return config }
        config.enabled = try reader.bool("enabled") ?? true
        config.socketPath = try reader.string("socket")
        if let text = try reader.string("listen") {
            guard let address = HostPort(text) else {
                throw ConfigError(key: reader.key("listen"), "'\(text)' is not host:port, e.g. \"127.0.0.1:8787\"")
            }
            config.listen = address
        }
        config.allowRemote = try reader.bool("allow_remote") ?? false
        config.token = try SecretLoader.load(
            &reader, envKey: "token_env", fileKey: "token_file", what: "the bearer token", environment: environment,
            warnings: &warnings)
        config.poolModelFallbacks = try reader.bool("pool_model_fallbacks") ?? true
        config.maxBodyBytes = try reader.int("max_body_bytes", min: 1024) ?? config.maxBodyBytes
        try reader.rejectUnknownKeys()
        if let listen = config.listen, !listen.isLoopback {
            guard config.allowRemote else {
                throw ConfigError(
                    key: reader.key("listen"),
                    "\(listen) is not a loopback address; set allow_remote = true (with token_env or token_file) to serve other hosts")
            }
            guard config.token != nil else {
                throw ConfigError(key: reader.key("allow_remote"), "needs token_env or token_file: a remote endpoint without a bearer token is open to anyone")
            }
        }
        return config
    }
}
