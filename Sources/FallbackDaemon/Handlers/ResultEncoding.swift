import FallbackCore
import FallbackRPC

/// Turns router results into the wire shapes docs/protocol.md promises.
enum ResultEncoding {
    static func result(_ result: CompletionResult) -> JSON {
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
            "finish_reason": .optional(result.finishReason),
            "request_id": .string(result.requestID),
        ]
    }

    static func error(_ failure: RouteFailure, timeoutMs: Int64) -> RPCError {
        let data: JSON = [
            "request_id": .string(failure.requestID),
            "task": .string(failure.task),
            "chain": .string(failure.chain),
            "latency_ms": .int(Int(failure.latencyMs)),
            "attempts": attempts(failure.attempts),
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

    static func usage(_ usage: Usage) -> JSON {
        ["input_tokens": .int(usage.inputTokens), "output_tokens": .int(usage.outputTokens)]
    }
}
