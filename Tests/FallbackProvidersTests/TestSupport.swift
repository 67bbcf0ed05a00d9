import FallbackCore
import FallbackRPC
import NIOHTTP1

@testable import FallbackProviders

/// A key whose value must never show up in a failure message.
let secretKey = APIKey("sk-test-SECRET-0123456789abcdef")

/// A fixed "now" for retry-after HTTP-dates: 2026-01-01T00:00:00Z (ManualClock's default).
let fixedNowMillis: Int64 = 1_767_225_600_000

func testModel(provider: String = "p", id: String = "model-1", timeoutMs: Int64? = nil) -> ModelConfig {
    ModelConfig(
        name: "pool-\(id)", provider: provider, modelID: id, priority: 1, maxTokens: 4096,
        costPer1kInput: 0.001, costPer1kOutput: 0.002, timeoutMs: timeoutMs)
}

func testRequest(
    _ messages: [ChatMessage], model: ModelConfig = testModel(), maxTokens: Int = 256, temperature: Double = 0.3,
    deadline: Moment = ManualClock().now().adding(millis: 60_000)
) -> ProviderRequest {
    ProviderRequest(model: model, messages: messages, maxTokens: maxTokens, temperature: temperature, deadline: deadline)
}

func testSettings(_ kind: ProviderKind, key: APIKey? = secretKey, baseURL: String? = nil) -> ProviderSettings {
    ProviderSettings(name: "p", kind: kind, baseURL: baseURL ?? (kind == .openaiCompatible ? "http://127.0.0.1:1/v1" : nil), apiKey: key)
}

func reply(_ status: Int, _ body: String, headers: [(String, String)] = []) -> HTTPReply {
    HTTPReply(status: status, headers: HTTPHeaders(headers), body: body)
}

let conversation: [ChatMessage] = [
    ChatMessage(role: .system, content: "Be terse."),
    ChatMessage(role: .user, content: "Hi"),
    ChatMessage(role: .assistant, content: "Hello."),
    ChatMessage(role: .system, content: "Answer in English."),
    ChatMessage(role: .user, content: "What is 2+2?"),
]

extension Result where Failure == ProviderFailure {
    /// The failure, or `nil` on success.
    var failure: ProviderFailure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }

    /// The success value, or `nil` on failure.
    var value: Success? {
        if case .success(let value) = self { return value }
        return nil
    }
}

/// The array members of `json[key]` as strings, for compact assertions.
func strings(_ json: JSON?, _ key: String) -> [String] {
    (json?.arrayValue ?? []).compactMap { $0[key]?.stringValue }
}
