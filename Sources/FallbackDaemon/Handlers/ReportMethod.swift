import FallbackCore
import FallbackRPC

extension ResilienceMethods {
    static let reportFields: Set<String> = ["model", "outcome", "error_type", "latency_ms", "usage", "http_status", "task", "metadata"]

    /// `report`: an outcome an app saw calling a provider through its own SDK. It counts toward the
    /// model's breaker, health and retry budget exactly like a call fallbackd made, and is logged.
    func report(_ params: JSON?) -> Result<JSON, RPCError> {
        let parsed = Result { () throws(RPCError) -> (ModelConfig, CallOutcome, Usage, Int?, String, String?) in
            try parseReport(params)
        }
        guard case .success(let (model, outcome, usage, status, task, metadata)) = parsed else {
            if case .failure(let error) = parsed { return .failure(error) }
            return .failure(.internalError("unreachable"))
        }
        let now = clock.now()
        let counted = resilience.report(model, outcome, at: now)
        let cost = model.cost(of: usage)
        let requestID = requestIDs.next()
        recorder.record(
            AttemptRecord(
                requestID: requestID, task: task, chain: "reported", model: model.name, provider: model.provider,
                attemptIndex: 0, startedAtMillis: now.unixMillis - outcome.latencyMs, latencyMs: outcome.latencyMs,
                success: outcome.success, errorType: outcome.errorType, httpStatus: status, usage: usage,
                costUSD: cost, metadataJSON: metadata
            )
        )
        let breaker = resilience.breakers.status(model.name, at: now)
        return .success(
            ReportReceipt(
                model: model.name, counted: counted, breaker: BreakerState(rawValue: breaker.phase.rawValue), costUSD: cost,
                requestID: requestID
            ).json)
    }

    func parseReport(_ params: JSON?) throws(RPCError) -> (ModelConfig, CallOutcome, Usage, Int?, String, String?) {
        guard let params, let members = params.objectValue else {
            throw .invalidParams(field: "params", "must be an object with model, outcome and latency_ms")
        }
        for (key, _) in members where !Self.reportFields.contains(key) {
            throw .invalidParams(field: key, "unknown parameter")
        }
        let model: ModelConfig
        switch modelParam(params) {
        case .success(let found): model = found
        case .failure(let error): throw error
        }
        guard let latency = params["latency_ms"]?.intValue, latency >= 0 else {
            throw .invalidParams(field: "latency_ms", "is required: an integer of at least 0")
        }
        let outcome: CallOutcome
        switch params["outcome"]?.stringValue {
        case "success":
            if let type = params["error_type"], !type.isNull {
                throw .invalidParams(field: "error_type", "must be absent when outcome is \"success\"")
            }
            outcome = .success(latencyMs: Int64(latency))
        case "error":
            guard let text = params["error_type"]?.stringValue, let type = ErrorType(rawValue: text) else {
                let names = ErrorType.allCases.map(\.rawValue).joined(separator: ", ")
                throw .invalidParams(field: "error_type", "is required with outcome \"error\": one of \(names)")
            }
            outcome = .failure(type, latencyMs: Int64(latency))
        default:
            throw .invalidParams(field: "outcome", "must be \"success\" or \"error\"")
        }
        var usage = Usage.zero
        if let value = params["usage"], !value.isNull {
            guard value.kind == .object else { throw .invalidParams(field: "usage", "must be {input_tokens, output_tokens}") }
            for field in ["input_tokens", "output_tokens"] {
                guard let tokens = value[field]?.intValue ?? (value[field] == nil ? 0 : nil), tokens >= 0 else {
                    throw .invalidParams(field: "usage.\(field)", "must be an integer of at least 0")
                }
                if field == "input_tokens" { usage.inputTokens = tokens } else { usage.outputTokens = tokens }
            }
        }
        var status: Int?
        if let value = params["http_status"], !value.isNull {
            guard let code = value.intValue, (100...599).contains(code) else {
                throw .invalidParams(field: "http_status", "must be an HTTP status code")
            }
            status = code
        }
        var task = "reported"
        if let value = params["task"], !value.isNull {
            guard let name = value.stringValue, !name.isEmpty else { throw .invalidParams(field: "task", "must be a non-empty string") }
            task = name
        }
        var metadata: String?
        if let value = params["metadata"], !value.isNull {
            guard value.kind == .object else { throw .invalidParams(field: "metadata", "must be an object") }
            metadata = value.serialized
        }
        return (model, outcome, usage, status, task, metadata)
    }
}
