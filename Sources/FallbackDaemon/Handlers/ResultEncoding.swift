import FallbackCore
import FallbackRPC
import FallbackStore

/// Turns router results into the wire shapes docs/protocol.md promises.
enum ResultEncoding {
    static func result(_ result: CompletionResult, clock: any FallbackClock) -> JSON {
        [
            "content": .string(result.content),
            "model_used": .string(result.model.name),
            "model_id": .string(result.model.modelID),
            "provider": .string(result.model.provider),
            "task": .string(result.task),
            "chain": .string(result.chain),
            "fallback_count": .int(result.fallbackCount),
            "used_fallback": .bool(result.usedFallback),
            "latency_ms": .int(Int(result.latencyMs)),
            "attempts": attempts(result.attempts),
            "usage": usage(result.usage),
            "cost_usd": .double(result.costUSD),
            "primary_cost_usd": .double(result.primaryCostUSD),
            "fallback_cost_delta_usd": .double(result.fallbackCostDeltaUSD),
            "finish_reason": .optional(result.finishReason),
            "request_id": .string(result.requestID),
            "route": route(result.route, clock: clock),
        ]
    }

    /// Each model of a chain with its place and reason; `until` for open breakers.
    static func route(_ steps: [RouteStep], clock: any FallbackClock) -> JSON {
        let now = clock.now()
        return .array(steps.enumerated().map { place, step in
            var entry: JSON = [
                "model": .string(step.model.name),
                "place": .int(place + 1),
                "reason": .string(step.reason.rawValue),
            ]
            if let until = step.until {
                entry["until"] = .string(TimeText.iso(until, now: now))
                entry["until_ms"] = .int(Int(TimeText.unixMillis(until, now: now)))
            }
            return entry
        })
    }

    static func error(_ failure: RouteFailure, timeoutMs: Int64, clock: any FallbackClock) -> RPCError {
        var data: JSON = [
            "request_id": .string(failure.requestID),
            "task": .string(failure.task),
            "chain": .string(failure.chain),
            "latency_ms": .int(Int(failure.latencyMs)),
            "attempts": attempts(failure.attempts),
            "route": route(failure.route, clock: clock),
        ]
        let tried = failure.attempts.count
        switch failure.kind {
        case .allModelsFailed:
            let last = failure.attempts.last?.errorType?.rawValue ?? "unknown"
            return RPCError(
                code: RPCErrorCode.allModelsFailed,
                message: "all models failed for chain \(failure.chain) (\(tried) attempts, last: \(last))", data: data
            )
        case .deadlineExceeded:
            return RPCError(
                code: RPCErrorCode.deadlineExceeded,
                message: "deadline of \(timeoutMs) ms exceeded after \(tried) attempts", data: data
            )
        case .cancelled:
            return RPCError(code: RPCErrorCode.shuttingDown, message: "request cancelled", data: data)
        case .allBreakersOpen(let retryAt):
            let now = clock.now()
            let wait = retryAt.map { max(0, $0.nanos - now.nanos) / 1_000_000 }
            data["retry_after_ms"] = .optional(wait.map { Int($0) })
            let hint = wait.map { "; retry in \($0) ms" } ?? ""
            return RPCError(
                code: RPCErrorCode.allBreakersOpen,
                message: "every model of chain \(failure.chain) has an open breaker\(hint)", data: data
            )
        }
    }

    static func attempts(_ attempts: [AttemptSummary]) -> JSON {
        .array(attempts.map { attempt in
            [
                "model": .string(attempt.model),
                "provider": .string(attempt.provider),
                "outcome": attempt.success ? "success" : "error",
                "error_type": .optional(attempt.errorType?.rawValue),
                "http_status": .optional(attempt.httpStatus),
                "latency_ms": .int(Int(attempt.latencyMs)),
                "cost_usd": .double(attempt.costUSD),
                "message": .optional(attempt.message),
            ]
        })
    }

    /// -32004: the task's daily budget is spent; no pricier model is tried instead.
    static func budgetError(_ refusal: BudgetRefusal, clock: any FallbackClock) -> RPCError {
        let resets = ISOTimestamp.string(unixMillis: refusal.resetsAtUnixMillis)
        return RPCError(
            code: RPCErrorCode.budgetExceeded,
            message: "daily budget of $\(refusal.budgetUSD) for task \(refusal.task) is spent; resets at \(resets)",
            data: [
                "task": .string(refusal.task), "budget_usd": .double(refusal.budgetUSD),
                "spent_usd": .double(refusal.spentUSD), "resets_at": .string(resets),
                "resets_at_ms": .int(Int(refusal.resetsAtUnixMillis)),
            ]
        )
    }

    static func usage(_ usage: Usage) -> JSON {
        ["input_tokens": .int(usage.inputTokens), "output_tokens": .int(usage.outputTokens)]
    }
}
