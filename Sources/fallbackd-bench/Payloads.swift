import FallbackRPC

/// The request every phase sends: the same messages go straight to the upstream (as the OpenAI
/// body fallbackd builds) and through fallbackd (as `complete` params).
struct Payloads: Sendable {
    static let systemPrompt =
        "You are a careful assistant embedded in a customer-support tool. Answer in plain English, "
        + "keep replies under 120 words, cite the relevant policy section when one applies, and never "
        + "invent order numbers, prices or dates. If the question is ambiguous, ask one short clarifying "
        + "question instead of guessing. Format lists with hyphens and avoid markdown tables."

    static let userPrompt =
        "Hi, I ordered a pair of trail-running shoes (order placed on the 3rd, size 44, colour slate) "
        + "and a waterproof jacket in the same order. The shoes arrived yesterday but the jacket did not, "
        + "and the tracking page still says 'label created'. The confirmation email listed both items with "
        + "one shipment. I need the jacket before a trip that starts in nine days. Could you tell me: "
        + "1) whether the jacket was shipped separately or is still in the warehouse, 2) if it cannot "
        + "arrive in time, whether I can cancel just the jacket and get a refund to the original card, "
        + "and 3) whether the shoes can still be exchanged for size 45 if they turn out to be tight after "
        + "a couple of short runs on a treadmill indoors. I have kept the box and the tags. I also noticed "
        + "the invoice charged shipping twice; please check that as well. Thanks for your help."

    static let maxTokens = 256
    static let temperature = 0.3

    let modelID: String

    var messages: JSON {
        var messages = JSON.emptyArray
        messages.append(["role": "system", "content": .string(Self.systemPrompt)])
        messages.append(["role": "user", "content": .string(Self.userPrompt)])
        return messages
    }

    /// The OpenAI chat body fallbackd's adapter would send for this request (same keys, same order).
    var upstreamBody: [UInt8] {
        let body: JSON = [
            "model": .string(modelID),
            "messages": messages,
            "max_tokens": .int(Self.maxTokens),
            "temperature": .double(Self.temperature),
        ]
        return body.serializedBytes
    }

    /// The same request to fallbackd's OpenAI endpoint: `model` names the task whose chain runs.
    func facadeBody(task: String) -> [UInt8] {
        let body: JSON = [
            "model": .string(task), "messages": messages, "max_tokens": .int(Self.maxTokens),
            "temperature": .double(Self.temperature),
        ]
        return body.serializedBytes
    }

    /// `complete` params carrying the same messages.
    var completeParams: JSON { completeParams(task: nil) }

    /// The same, naming a task (its chain runs instead of the default one).
    func completeParams(task: String?) -> JSON {
        var params: JSON = [
            "messages": messages, "max_tokens": .int(Self.maxTokens), "temperature": .double(Self.temperature),
        ]
        if let task { params["task"] = .string(task) }
        return params
    }
}

/// One JSON-RPC request line with a variable integer id: `prefix + id + suffix + "\n"`.
struct RequestTemplate: Sendable {
    let method: String
    let prefix: [UInt8]
    let suffix: [UInt8]

    init(method: String, params: JSON?) {
        self.method = method
        prefix = Array(#"{"jsonrpc":"2.0","id":"#.utf8)
        var tail = #","method":""# + method + "\""
        if let params { tail += #","params":"# + params.serialized }
        tail += "}\n"
        suffix = Array(tail.utf8)
    }

    var approximateLineBytes: Int { prefix.count + suffix.count + 6 }
}
