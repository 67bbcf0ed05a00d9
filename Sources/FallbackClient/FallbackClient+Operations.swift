import FallbackRPC

/// Typed wrappers for the operator's methods: readiness, live counters, recent attempts, reload.
extension FallbackClient {
    /// Whether the daemon can serve: call log writable, a default-chain model callable.
    public func ready() throws(FallbackClientError) -> Readiness {
        try decoded("ready", Readiness.init(json:))
    }

    /// Per pool model, counters since the daemon started.
    public func stats() throws(FallbackClientError) -> [ModelStats] {
        let result = try call("stats")
        guard let models = result["models"]?.arrayValue else {
            throw .protocolError("stats result lacks a \"models\" array: \(Self.excerpt(of: result))")
        }
        return models.map(ModelStats.init(json:))
    }

    /// The attempts after sequence number `after` (at most `limit` of the newest), and the newest
    /// sequence number to pass next time.
    public func recentAttempts(after: Int = 0, limit: Int = 100) throws(FallbackClientError) -> (attempts: [RecentAttempt], last: Int) {
        let result = try call("attempts.recent", params: ["after": .int(after), "limit": .int(limit)])
        guard let attempts = result["attempts"]?.arrayValue, let last = result["last"]?.roundedInt else {
            throw .protocolError("attempts.recent result lacks attempts/last: \(Self.excerpt(of: result))")
        }
        return (attempts.map(RecentAttempt.init(json:)), last)
    }

    /// Re-reads the daemon's config file (as SIGHUP does) and says what changed.
    /// - Throws: `.rpc` with -32008 when the file is invalid (nothing changed); transport errors.
    public func reload() throws(FallbackClientError) -> ReloadResult {
        try decoded("reload", ReloadResult.init(json:))
    }
}
