import FallbackRPC

/// Typed wrappers for the resilience methods: health, breakers, routes and outside reports.
extension FallbackClient {
    /// Every pool model's success rate, latency and breaker over the last `windowMinutes`
    /// (1...60; `nil` uses the daemon's default of 15), in priority order.
    /// - Throws: `.rpc` with -32602 for a window out of range; transport errors.
    public func health(windowMinutes: Int? = nil) throws(FallbackClientError) -> [ModelHealth] {
        let params: JSON? = windowMinutes.map { ["window_minutes": .int($0)] }
        return try decoded("health", params: params, ModelHealth.list(json:))
    }

    /// Every pool model's circuit breaker, in priority order.
    public func breakers() throws(FallbackClientError) -> [BreakerInfo] {
        let result = try call("breakers")
        guard let entries = result["breakers"]?.arrayValue else {
            throw .protocolError("breakers result lacks a \"breakers\" array: \(Self.excerpt(of: result))")
        }
        return try entries.map { (entry) throws(FallbackClientError) -> BreakerInfo in try Self.breaker(from: entry) }
    }

    /// Closes `model`'s breaker: counters cleared, growth level back to 0, isolation and the
    /// misconfigured flag lifted. Returns the breaker afterwards.
    /// - Throws: `.rpc` with -32602 (field `model`) for a name not in the pool; transport errors.
    @discardableResult
    public func resetBreaker(_ model: String) throws(FallbackClientError) -> BreakerInfo {
        try Self.breaker(from: call("breaker.reset", params: ["model": .string(model)]))
    }

    /// Takes `model` out of every chain until `resetBreaker`. Returns the breaker afterwards.
    /// - Throws: `.rpc` with -32602 (field `model`) for a name not in the pool; transport errors.
    @discardableResult
    public func isolateBreaker(_ model: String) throws(FallbackClientError) -> BreakerInfo {
        try Self.breaker(from: call("breaker.isolate", params: ["model": .string(model)]))
    }

    /// The order a `complete` for `task` would try models in right now, skipped models last.
    /// `nil` asks for the default chain; an unknown task gets the default chain too.
    public func route(task: String? = nil) throws(FallbackClientError) -> [RouteEntry] {
        let params: JSON? = task.map { ["task": .string($0)] }
        return try decoded("route", params: params, ChainRoute.init(json:)).route
    }

    /// Tells the daemon about a call the app made to a provider through its own SDK: it counts toward
    /// the model's breaker, health and retry budget like a call fallbackd made, and is logged.
    /// - Parameters:
    ///   - model: a pool model name.
    ///   - outcome: `.success`, or `.error(type:)` with one of the daemon's error types.
    ///   - latencyMs: how long the call took, at least 0.
    ///   - usage: tokens, for the call log's cost.
    ///   - httpStatus: the provider's status code (100...599).
    ///   - task: the task to log it under (the daemon's default is `reported`).
    ///   - metadata: an object kept in the call log.
    /// - Throws: `.rpc` with -32602 for an unknown model or error type, or a bad field; transport errors.
    @discardableResult
    public func report(
        model: String, outcome: ReportOutcome, latencyMs: Int, usage: Usage? = nil,
        httpStatus: Int? = nil, task: String? = nil, metadata: JSON? = nil
    ) throws(FallbackClientError) -> ReportReceipt {
        let params = ReportReceipt.params(
            model: model, outcome: outcome, latencyMs: latencyMs, usage: usage, httpStatus: httpStatus,
            task: task, metadata: metadata
        )
        return ReportReceipt(json: try call("report", params: params))
    }

    static func breaker(from json: JSON) throws(FallbackClientError) -> BreakerInfo {
        guard let breaker = BreakerInfo(json: json) else {
            throw .protocolError("breaker object without a model: \(excerpt(of: json))")
        }
        return breaker
    }
}
