import FallbackCore
import FallbackRPC
import FallbackStore

/// Turns router results into the wire shapes docs/protocol.md promises.
enum ResultEncoding {
    /// The `complete` result, written straight to bytes (the same text as `Completion.json`).
    static func result(_ result: CompletionResult, clock: any FallbackClock) -> JSON {
        completion(result, clock: clock).rawJSON
    }

    static func completion(_ result: CompletionResult, clock: any FallbackClock) -> Completion {
        Completion(
            content: result.message.content, toolCalls: result.message.toolCalls, refusal: result.message.refusal,
            finishReason: result.finishReason, providerFinishReason: result.providerFinishReason,
            modelUsed: result.model.name, modelID: result.model.modelID, provider: result.model.provider,
            task: result.task, chain: result.chain, fallbackCount: result.fallbackCount,
            latencyMs: Int(result.latencyMs), attempts: result.attempts.map(attempt(_:)), usage: result.usage,
            costUSD: result.costUSD, primaryCostUSD: result.primaryCostUSD, fallbackCostDeltaUSD: result.fallbackCostDeltaUSD,
            requestID: result.requestID, route: routeEntries(result.route, clock: clock), ignoredFields: result.ignoredFields
        )
    }

    /// Each model of a chain with its place and reason; `until` for open breakers.
    static func routeEntries(_ steps: [RouteStep], clock: any FallbackClock) -> [RouteEntry] {
        let now = clock.now()
        return steps.enumerated().map { place, step in
            RouteEntry(
                place: place + 1, model: step.model.name, reason: RouteEntry.Reason(rawValue: step.reason.rawValue),
                until: step.until.map { TimeText.iso($0, now: now) },
                untilMs: step.until.map { Int(TimeText.unixMillis($0, now: now)) },
                capability: step.capability?.rawValue)
        }
    }

    static func route(_ steps: [RouteStep], clock: any FallbackClock) -> JSON {
        .array(routeEntries(steps, clock: clock).map(\.json))
    }

    static func attempt(_ attempt: AttemptSummary) -> Completion.Attempt {
        Completion.Attempt(
            model: attempt.model, provider: attempt.provider, outcome: attempt.success ? "success" : "error",
            errorType: attempt.errorType?.rawValue, httpStatus: attempt.httpStatus, latencyMs: Int(attempt.latencyMs),
            costUSD: attempt.costUSD, message: attempt.message, committed: attempt.committed,
            skippedEvents: attempt.skippedEvents, hedged: attempt.hedged)
    }

    static func error(_ failure: RouteFailure, request: CompletionRequest, clock: any FallbackClock) -> RPCError {
        let timeoutMs = request.timeoutMs
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
        case .noCapableModel(let capability):
            let field = request.chat.field(needing: capability)
            data["capability"] = .string(capability.rawValue)
            return RPCError(
                code: RPCErrorCode.invalidParams,
                message: "invalid params: \(field): no model of chain \(failure.chain) can take it (none has the \(capability.rawValue) capability)",
                data: data.merging(["field": .string(field), "reason": .string("no model of the chain has the \(capability.rawValue) capability")]))
        case .contextTooLarge(let tokens):
            return RPCError(
                code: RPCErrorCode.invalidParams,
                message: "invalid params: messages: about \(tokens) input tokens fit no model of chain \(failure.chain)",
                data: data.merging(["field": "messages", "reason": .string("about \(tokens) input tokens fit no model's context window"), "estimated_input_tokens": .int(tokens)]))
        case .interrupted(let model, let cause, let delivered):
            data["model"] = .string(model)
            data["reason"] = .string(cause.type.rawValue)
            data["message"] = .string(cause.message)
            data["delivered"] = [
                "content_chars": .int(delivered.contentCharacters), "tool_calls": .int(delivered.toolCalls),
                "tool_call_open": .bool(delivered.toolCallOpen),
            ]
            return RPCError(
                code: RPCErrorCode.streamInterrupted,
                message: "stream from \(model) interrupted after \(delivered.contentCharacters) characters (\(cause.type.rawValue)): the answer is incomplete",
                data: data)
        case .contentFiltered(let model, let cause):
            data["model"] = .string(model)
            data["reason"] = .string(cause.message)
            data["http_status"] = .optional(cause.httpStatus)
            return RPCError(
                code: RPCErrorCode.contentFiltered,
                message: "\(model) refused the content: \(cause.message)", data: data)
        case .allBreakersOpen(let retryAt):
            let now = clock.now()
            let wait = retryAt.map { max(0, $0.nanos - now.nanos) / 1_000_000 }
            data["retry_after_ms"] = .optional(wait.map { Int($0) })
            let hint = wait.map { "; retry in \($0) ms" } ?? ""
            return RPCError(
                code: RPCErrorCode.allBreakersOpen,
                message: failure.route.contains { $0.reason == .rateLimitedUntil }
                    ? "every model of chain \(failure.chain) has an open breaker or is parked by a Retry-After\(hint)"
                    : "every model of chain \(failure.chain) has an open breaker\(hint)", data: data
            )
        }
    }

    static func attempts(_ attempts: [AttemptSummary]) -> JSON {
        .array(attempts.map { attempt($0).json })
    }

    /// -32004: the task's daily budget is spent; no pricier model is tried instead.
    static func budgetError(_ refusal: BudgetRefusal, clock: any FallbackClock, subject: String = "task") -> RPCError {
        let resets = ISOTimestamp.string(unixMillis: refusal.resetsAtUnixMillis)
        return RPCError(
            code: RPCErrorCode.budgetExceeded,
            message: "daily budget of $\(refusal.budgetUSD) for \(subject) \(refusal.task) is spent; resets at \(resets)",
            data: [
                subject: .string(refusal.task), "budget_usd": .double(refusal.budgetUSD),
                "spent_usd": .double(refusal.spentUSD), "resets_at": .string(resets),
                "resets_at_ms": .int(Int(refusal.resetsAtUnixMillis)),
            ]
        )
    }

}
