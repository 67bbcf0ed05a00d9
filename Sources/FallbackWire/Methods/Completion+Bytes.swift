/// The `complete` result written straight to bytes: the same text as ``Completion/json`` serialized,
/// without building a tree of about 60 nodes, serializing it and freeing it again on every request.
extension Completion {
    /// The result as a pre-serialized value (see ``JSON/raw(_:)``): what the daemon answers with.
    public var rawJSON: JSON {
        var writer = JSONWriter(capacity: 1024 + (content?.utf8.count ?? 0))
        write(into: &writer)
        return JSON.raw(writer.bytes)
    }

    func write(into out: inout JSONWriter) {
        out.byte(UInt8(ascii: "{"))
        out.key("content", first: true)
        out.optional(content)
        out.key("tool_calls")
        out.byte(UInt8(ascii: "["))
        for (index, call) in toolCalls.enumerated() {
            if index > 0 { out.byte(UInt8(ascii: ",")) }
            let tree = call.json
            withExtendedLifetime(tree) { out.write(tree.node) }
        }
        out.byte(UInt8(ascii: "]"))
        out.key("refusal")
        out.optional(refusal)
        out.key("finish_reason")
        out.optional(finishReason?.rawValue)
        out.key("provider_finish_reason")
        out.optional(providerFinishReason)
        out.key("model_used")
        out.string(modelUsed)
        out.key("model_id")
        out.string(modelID)
        out.key("provider")
        out.string(provider)
        out.key("task")
        out.string(task)
        out.key("chain")
        out.string(chain)
        out.key("fallback_count")
        out.integer(Int64(fallbackCount))
        out.key("used_fallback")
        out.bool(usedFallback)
        out.key("latency_ms")
        out.integer(Int64(latencyMs))
        out.key("attempts")
        out.byte(UInt8(ascii: "["))
        for (index, attempt) in attempts.enumerated() {
            if index > 0 { out.byte(UInt8(ascii: ",")) }
            attempt.write(into: &out)
        }
        out.byte(UInt8(ascii: "]"))
        out.key("usage")
        usage.write(into: &out)
        out.key("cost_usd")
        out.double(costUSD)
        out.key("primary_cost_usd")
        out.optional(primaryCostUSD)
        out.key("fallback_cost_delta_usd")
        out.optional(fallbackCostDeltaUSD)
        out.key("ignored_fields")
        out.byte(UInt8(ascii: "["))
        for (index, field) in ignoredFields.enumerated() {
            if index > 0 { out.byte(UInt8(ascii: ",")) }
            out.string(field)
        }
        out.byte(UInt8(ascii: "]"))
        out.key("request_id")
        out.string(requestID)
        out.key("route")
        out.byte(UInt8(ascii: "["))
        for (index, entry) in route.enumerated() {
            if index > 0 { out.byte(UInt8(ascii: ",")) }
            entry.write(into: &out)
        }
        out.byte(UInt8(ascii: "]"))
        out.byte(UInt8(ascii: "}"))
    }
}

extension Completion.Attempt {
    func write(into out: inout JSONWriter) {
        out.byte(UInt8(ascii: "{"))
        out.key("model", first: true)
        out.string(model)
        out.key("provider")
        out.string(provider)
        out.key("outcome")
        out.string(outcome)
        out.key("error_type")
        out.optional(errorType)
        out.key("http_status")
        out.optional(httpStatus)
        out.key("latency_ms")
        out.integer(Int64(latencyMs))
        out.key("cost_usd")
        out.double(costUSD)
        out.key("message")
        out.optional(message)
        out.key("committed")
        out.bool(committed)
        out.key("skipped_events")
        out.integer(Int64(skippedEvents))
        out.key("hedged")
        out.bool(hedged)
        out.byte(UInt8(ascii: "}"))
    }
}

extension Usage {
    func write(into out: inout JSONWriter) {
        out.byte(UInt8(ascii: "{"))
        out.key("input_tokens", first: true)
        out.integer(Int64(inputTokens))
        out.key("output_tokens")
        out.integer(Int64(outputTokens))
        out.key("cached_input_tokens")
        out.integer(Int64(cachedInputTokens))
        out.key("cache_write_tokens")
        out.integer(Int64(cacheWriteTokens))
        out.key("reasoning_tokens")
        out.integer(Int64(reasoningTokens))
        out.byte(UInt8(ascii: "}"))
    }
}

extension RouteEntry {
    func write(into out: inout JSONWriter) {
        out.byte(UInt8(ascii: "{"))
        out.key("model", first: true)
        out.string(model)
        out.key("place")
        out.integer(Int64(place))
        out.key("reason")
        out.string(reason.rawValue)
        if let until {
            out.key("until")
            out.string(until)
        }
        if let untilMs {
            out.key("until_ms")
            out.integer(Int64(untilMs))
        }
        if let capability {
            out.key("capability")
            out.string(capability)
        }
        out.byte(UInt8(ascii: "}"))
    }
}
