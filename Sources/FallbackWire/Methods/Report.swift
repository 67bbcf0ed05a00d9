/// What an app saw when it called a provider itself, for the `report` method.
public enum ReportOutcome: Sendable, Equatable {
    /// The call succeeded.
    case success
    /// The call failed with this error type: `rate_limited`, `overloaded`, `server_error`, `timeout`,
    /// `connection`, `auth`, `invalid_request`, `context_length`, `content_filter`, `bad_response`
    /// or `cancelled`.
    case error(type: String)

    /// The `outcome` param.
    public var outcome: String {
        switch self {
        case .success: "success"
        case .error: "error"
        }
    }

    /// The `error_type` param; `nil` for a success.
    public var errorType: String? {
        if case .error(let type) = self { return type }
        return nil
    }
}

/// The daemon's answer to `report`.
public struct ReportReceipt: Sendable, Equatable {
    /// The pool name of the model reported.
    public var model: String
    /// Whether the breaker counted the outcome. It ignores reports while open or isolated, reports
    /// arriving in half-open while the probe slots are taken, and outcomes that say nothing about
    /// the model's health (cancelled, invalid_request, context_length, content_filter).
    public var counted: Bool
    /// The model's breaker after the report.
    public var breaker: BreakerState
    /// What the reported usage cost at the model's prices, in US dollars.
    public var costUSD: Double
    /// The call-log id of the reported call (`r-...`).
    public var requestID: String

    public init(model: String, counted: Bool, breaker: BreakerState, costUSD: Double = 0, requestID: String = "") {
        self.model = model
        self.counted = counted
        self.breaker = breaker
        self.costUSD = costUSD
        self.requestID = requestID
    }

    /// Reads a `report` result; missing members get defaults.
    public init(json: JSON) {
        self.init(
            model: json["model"]?.stringValue ?? "",
            counted: json["counted"]?.boolValue ?? false,
            breaker: BreakerState(rawValue: json["breaker"]?.stringValue ?? ""),
            costUSD: json["cost_usd"]?.doubleValue ?? 0,
            requestID: json["request_id"]?.stringValue ?? ""
        )
    }

    /// The `report` result.
    public var json: JSON {
        [
            "model": .string(model), "counted": .bool(counted), "breaker": .string(breaker.rawValue),
            "cost_usd": .double(costUSD), "request_id": .string(requestID),
        ]
    }

    /// The `report` params.
    public static func params(
        model: String, outcome: ReportOutcome, latencyMs: Int, usage: Usage?, httpStatus: Int?,
        task: String?, metadata: JSON?
    ) -> JSON {
        var params: JSON = [
            "model": .string(model), "outcome": .string(outcome.outcome), "latency_ms": .int(latencyMs),
        ]
        if let type = outcome.errorType { params["error_type"] = .string(type) }
        if let usage {
            params["usage"] = ["input_tokens": .int(usage.inputTokens), "output_tokens": .int(usage.outputTokens)]
        }
        if let httpStatus { params["http_status"] = .int(httpStatus) }
        if let task { params["task"] = .string(task) }
        if let metadata { params["metadata"] = metadata }
        return params
    }
}
