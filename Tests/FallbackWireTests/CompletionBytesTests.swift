import Testing

@testable import FallbackWire

/// The daemon writes `complete` results without a tree: the bytes must be exactly the tree's.
@Suite("Completion written straight to bytes")
struct CompletionBytesTests {
    static let full = Completion(
        content: "Line one\nline \"two\" \\ tab\t é 🎉 \u{01}",
        toolCalls: [ToolCall(id: "call_1", name: "get_weather", arguments: #"{"city":"Paris"}"#)],
        refusal: nil, finishReason: .toolCalls, providerFinishReason: "tool_calls", modelUsed: "claude-3-5-sonnet",
        modelID: "claude-3-5-sonnet-20241022", provider: "anthropic", task: "default", chain: "default",
        fallbackCount: 1, latencyMs: 812,
        attempts: [
            Completion.Attempt(
                model: "gpt-4o", provider: "openai", outcome: "error", errorType: "server_error", httpStatus: 500,
                latencyMs: 20, costUSD: 0, message: "The server had an \"error\"", committed: false, skippedEvents: 0),
            Completion.Attempt(
                model: "claude-3-5-sonnet", provider: "anthropic", outcome: "success", latencyMs: 790,
                costUSD: 0.000636, hedged: true),
        ],
        usage: Usage(inputTokens: 312, outputTokens: 164, cachedInputTokens: 7, cacheWriteTokens: 3, reasoningTokens: 2),
        costUSD: 0.000636, primaryCostUSD: 0.00066, fallbackCostDeltaUSD: -0.000024, requestID: "r-1",
        route: [
            RouteEntry(place: 1, model: "gpt-4o", reason: .init(rawValue: "open"), until: "2026-12-03T12:00:00Z", untilMs: 1_796_000_000_000),
            RouteEntry(place: 2, model: "claude-3-5-sonnet", reason: .init(rawValue: "healthy"), capability: "tools"),
        ],
        ignoredFields: ["logprobs", "n"])

    static let sparse = Completion(content: nil, finishReason: nil, modelUsed: "m", costUSD: 1e-9)

    @Test("the same bytes as the tree", arguments: [full, sparse])
    func sameBytes(completion: Completion) {
        let tree = completion.json.serialized
        let bytes = completion.rawJSON.serialized
        #expect(bytes == tree)
    }

    @Test("a raw value splices in anywhere in a tree, and reads back as what it holds")
    func splices() throws {
        let reply: JSON = ["jsonrpc": "2.0", "id": 7, "result": Self.full.rawJSON]
        let parsed = try JSON.parse(reply.serialized)
        #expect(parsed["result"] == Self.full.json)
        #expect(try Completion(json: parsed["result"] ?? .null).modelUsed == "claude-3-5-sonnet")
    }

    @Test("no parsed document can pose as a raw value")
    func unforgeable() {
        #expect(throws: JSONParseError.self) { try JSON.parse(#"{"\u0000raw":"1"}"#) }
    }
}
