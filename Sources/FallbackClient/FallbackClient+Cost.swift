import FallbackRPC

/// Typed wrappers for the cost methods: `cost.report` and `shadow.report`.
///
/// Both are computed by the daemon from its call log; nothing is sent to any provider.
extension FallbackClient {
    /// Spend per task and per model over the last `days` (1...3660; `nil` uses the daemon's 7), the
    /// totals, and the totals of the `weeks` most recent UTC weeks (1...520; `nil` uses 8).
    /// - Throws: `.rpc` with -32602 for a value out of range; transport errors.
    public func costReport(days: Int? = nil, weeks: Int? = nil) throws(FallbackClientError) -> SpendReport {
        var params = JSON.emptyObject
        if let days { params["days"] = .int(days) }
        if let weeks { params["weeks"] = .int(weeks) }
        return try decoded("cost.report", params: Self.nonEmpty(params), SpendReport.init(json:))
    }

    /// Spend over `[since, until)` in Unix milliseconds (`until` defaults to now), and the weekly
    /// totals of the `weeks` most recent UTC weeks ending at `until`.
    /// - Throws: `.rpc` with -32602 when `until` is not after `since`; transport errors.
    public func costReport(since: Int, until: Int? = nil, weeks: Int? = nil) throws(FallbackClientError) -> SpendReport {
        var params: JSON = ["since": .int(since)]
        if let until { params["until"] = .int(until) }
        if let weeks { params["weeks"] = .int(weeks) }
        return try decoded("cost.report", params: params, SpendReport.init(json:))
    }

    /// Each shadow model against the model it shadowed over the last `days` (`nil` uses the daemon's 7).
    /// - Throws: `.rpc` with -32602 for `days` out of 1...3660; transport errors.
    public func shadowReport(days: Int? = nil) throws(FallbackClientError) -> ShadowReport {
        try decoded("shadow.report", params: days.map { ["days": .int($0)] }, ShadowReport.init(json:))
    }

    /// `shadowReport(days:)` over `[since, until)` in Unix milliseconds (`until` defaults to now).
    public func shadowReport(since: Int, until: Int? = nil) throws(FallbackClientError) -> ShadowReport {
        var params: JSON = ["since": .int(since)]
        if let until { params["until"] = .int(until) }
        return try decoded("shadow.report", params: params, ShadowReport.init(json:))
    }

    /// `nil` for an empty object, so a request without options sends no `params`.
    static func nonEmpty(_ params: JSON) -> JSON? {
        // Not `cond ? nil : params`: JSON is ExpressibleByNilLiteral, so that `nil` would be JSON null.
        guard let members = params.objectValue, !members.isEmpty else { return Optional<JSON>.none }
        return params
    }
}

extension FallbackClientError {
    /// The task's daily budget is spent (-32004); `budget` has the figures and the reset time.
    public var isBudgetExceeded: Bool { code == RPCErrorCode.budgetExceeded }

    /// For -32004: the task, its budget, today's spend and when it resets; `nil` for other errors.
    public var budget: BudgetRefusalInfo? {
        guard isBudgetExceeded, let data = rpcError?.data, data.kind == .object else { return nil }
        return BudgetRefusalInfo(
            task: data["task"]?.stringValue ?? "", budgetUSD: data["budget_usd"]?.doubleValue ?? 0,
            spentUSD: data["spent_usd"]?.doubleValue ?? 0, resetsAt: data["resets_at"]?.stringValue ?? "",
            resetsAtMs: data["resets_at_ms"]?.roundedInt
        )
    }
}

/// The `data` of a -32004 budget error.
public struct BudgetRefusalInfo: Sendable, Equatable {
    public var task: String
    /// The task's budget in US dollars per UTC day.
    public var budgetUSD: Double
    /// What the task has spent today (UTC), at or above `budgetUSD`.
    public var spentUSD: Double
    /// The next UTC midnight, when spend starts again from 0: ISO-8601, and Unix milliseconds.
    public var resetsAt: String
    public var resetsAtMs: Int?

    public init(task: String, budgetUSD: Double, spentUSD: Double, resetsAt: String, resetsAtMs: Int? = nil) {
        self.task = task
        self.budgetUSD = budgetUSD
        self.spentUSD = spentUSD
        self.resetsAt = resetsAt
        self.resetsAtMs = resetsAtMs
    }
}
