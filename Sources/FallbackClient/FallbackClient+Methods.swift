import FallbackRPC

/// Typed wrappers for the daemon's methods.
extension FallbackClient {
    /// The daemon's deadline for `complete` when the request names none.
    public static let defaultCompleteTimeoutMs = 30_000
    /// How much longer than the daemon's deadline `complete` waits for the reply.
    public static let deadlineSlack: Duration = .seconds(5)

    /// Whether the daemon answers `ping` with `"pong"`.
    /// - Throws: `.unavailable` when nothing listens on the socket, and the other transport errors.
    public func ping() throws(FallbackClientError) -> Bool {
        try call("ping").stringValue == "pong"
    }

    /// The daemon's `status`: version, uptime, pid, socket, database, requests in flight and in
    /// total, connections, the call log's state, models and chains.
    public func status() throws(FallbackClientError) -> DaemonStatus {
        try decoded("status", DaemonStatus.init(json:))
    }

    /// The model pool, sorted by priority then name.
    public func models() throws(FallbackClientError) -> [ModelInfo] {
        let result = try call("models")
        guard let entries = result["models"]?.arrayValue else {
            throw .protocolError("models result lacks a \"models\" array: \(Self.excerpt(of: result))")
        }
        return try entries.map { (entry) throws(FallbackClientError) -> ModelInfo in
            guard let model = ModelInfo(json: entry) else {
                throw .protocolError("models entry without a name: \(Self.excerpt(of: entry))")
            }
            return model
        }
    }

    /// The fallback chains by task name.
    public func chains() throws(FallbackClientError) -> [String: [String]] {
        try chainTable().chains
    }

    /// The fallback chains and which one is the default.
    public func chainTable() throws(FallbackClientError) -> ChainTable {
        try decoded("chains", ChainTable.init(json:))
    }

    /// Runs a completion through a fallback chain.
    ///
    /// Options left `nil` use the daemon's defaults (task `default`, each model's own output cap and
    /// default temperature, 30 s deadline). The call waits `timeoutMs` plus `deadlineSlack` when that is longer
    /// than the client's timeout, so the daemon's own deadline error arrives first.
    /// - Parameters:
    ///   - messages: the conversation, non-empty.
    ///   - task: picks the chain; unknown tasks run the default chain.
    ///   - models: an explicit chain of pool names instead of the task's.
    ///   - maxTokens: output cap, clipped to each model's `max_tokens`.
    ///   - temperature: 0...2.
    ///   - timeoutMs: overall deadline for all attempts.
    ///   - metadata: an object kept in the daemon's call log.
    ///   - shadow: `true` asks for a shadow call on the backup model (still under the daily shadow cap),
    ///     `false` opts out of sampling, `nil` leaves it to the sampler. The reply is the same either way.
    /// - Throws: `.rpc` with -32602 (invalid params), -32001 (all models failed), -32002
    ///   (deadline exceeded), -32003 (all breakers open; see `retryAfterMs`), -32004 (the task's
    ///   daily budget is spent; see `budget`), -32005 (overloaded) or -32000 (shutting down);
    ///   transport errors.
    public func complete(
        _ messages: [ChatMessage], task: String? = nil, models: [String]? = nil, maxTokens: Int? = nil,
        temperature: Double? = nil, timeoutMs: Int? = nil, metadata: JSON? = nil, shadow: Bool? = nil
    ) throws(FallbackClientError) -> Completion {
        var chat = ChatRequest(messages: messages)
        chat.maxOutputTokens = maxTokens
        chat.temperature = temperature
        return try complete(
            CompleteParams(chat: chat, task: task, models: models, timeoutMs: timeoutMs, metadata: metadata, shadow: shadow))
    }

    /// Runs any Chat Completions request (tools, images, JSON schema...) through the daemon's chains.
    ///
    /// The reply wait covers the request's own deadline, so the daemon's deadline always fires first.
    public func complete(_ params: CompleteParams) throws(FallbackClientError) -> Completion {
        let daemonDeadline = Duration.milliseconds(max(0, params.timeoutMs ?? Self.defaultCompleteTimeoutMs))
        let wait = max(timeout, daemonDeadline + Self.deadlineSlack)
        return try decoded("complete", params: params.json, timeout: wait, Completion.init(json:))
    }

    /// Runs a completion for a single prompt (sent as a user message, after `system` if given).
    ///
    /// See `complete(_:task:models:maxTokens:temperature:timeoutMs:metadata:shadow:)` for the options.
    public func complete(
        _ prompt: String, system: String? = nil, task: String? = nil, models: [String]? = nil,
        maxTokens: Int? = nil, temperature: Double? = nil, timeoutMs: Int? = nil, metadata: JSON? = nil,
        shadow: Bool? = nil
    ) throws(FallbackClientError) -> Completion {
        try complete(
            ChatMessage.conversation(prompt: prompt, system: system), task: task, models: models,
            maxTokens: maxTokens, temperature: temperature, timeoutMs: timeoutMs, metadata: metadata, shadow: shadow
        )
    }
}
