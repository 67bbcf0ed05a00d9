import FallbackCore
import FallbackRPC
import NIOHTTP1
import Testing
import Synchronization

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
    _ messages: [ChatMessage], model: ModelConfig = testModel(), maxTokens: Int = 256, temperature: Double? = 0.3,
    deadline: Moment = ManualClock().now().adding(millis: 60_000)
) -> ProviderRequest {
    var chat = ChatRequest(messages: messages)
    chat.maxOutputTokens = maxTokens
    chat.temperature = temperature
    return ProviderRequest(model: model, chat: chat, deadline: deadline)
}

/// A request decoded from a Chat Completions body, as the daemon would receive it.
func chatRequest(_ body: String, model: ModelConfig = testModel(), sourceLocation: SourceLocation = #_sourceLocation) throws -> ProviderRequest {
    let json = try JSON.parse(body)
    return ProviderRequest(model: model, chat: try ChatRequest(decoding: json), deadline: ManualClock().now().adding(millis: 60_000))
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

/// A clock whose sleepers wake only when cancelled: proves cancellation, not time, ended a wait.
final class HeldClock: FallbackClock {
    private let base = ManualClock()
    /// Opens when the first sleeper starts waiting.
    let sleeping = Signal()

    func now() -> Moment { base.now() }

    func sleep(until deadline: Moment) async throws {
        sleeping.fire()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                held.withLock { $0.append(continuation) }
                if Task.isCancelled { release() }
            }
        } onCancel: {
            release()
        }
    }

    private let held = Mutex<[CheckedContinuation<Void, any Error>]>([])

    private func release() {
        let waiters = held.withLock { waiters in
            defer { waiters = [] }
            return waiters
        }
        for waiter in waiters { waiter.resume(throwing: CancellationError()) }
    }
}

/// A one-shot signal a test can await.
final class Signal: Sendable {
    private let state = Mutex<(fired: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func fire() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.fired = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                if state.fired { return true }
                state.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }
}
