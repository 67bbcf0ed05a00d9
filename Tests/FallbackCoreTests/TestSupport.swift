import Synchronization

@testable import FallbackCore

/// The seed's model pool, priced as in config/fallbackd.toml.
enum Seed {
    static let gpt4o = ModelConfig(
        name: "gpt-4o", provider: "openai", modelID: "gpt-4o", priority: 1, maxTokens: 4096,
        costPer1kInput: 0.005, costPer1kOutput: 0.015, notes: "Primary for complex reasoning", contextWindow: 128_000)
    static let sonnet = ModelConfig(
        name: "claude-3-5-sonnet", provider: "anthropic", modelID: "claude-3-5-sonnet-20241022", priority: 2,
        maxTokens: 4096, costPer1kInput: 0.003, costPer1kOutput: 0.015)
    static let gpt4oMini = ModelConfig(
        name: "gpt-4o-mini", provider: "openai", modelID: "gpt-4o-mini", priority: 3, maxTokens: 4096,
        costPer1kInput: 0.00015, costPer1kOutput: 0.0006)
    static let haiku = ModelConfig(
        name: "claude-3-haiku", provider: "anthropic", modelID: "claude-3-haiku-20240307", priority: 4,
        maxTokens: 4096, costPer1kInput: 0.00025, costPer1kOutput: 0.00125)

    static let models = [gpt4o, sonnet, gpt4oMini, haiku]
    static let chains: [String: [String]] = [
        "default": ["gpt-4o", "claude-3-5-sonnet", "gpt-4o-mini", "claude-3-haiku"],
        "complex_reasoning": ["gpt-4o", "claude-3-5-sonnet", "gpt-4o-mini"],
    ]

    static func pool(models: [ModelConfig] = models, chains: [String: [String]] = chains) throws -> ModelPool {
        try ModelPool(models: models, chains: chains)
    }
}

/// One scripted answer of a model: how long it takes on the manual clock and what it returns.
struct Step: Sendable {
    var latencyMs: Int64
    var outcome: Result<ProviderResponse, ProviderFailure>
    /// Streaming: text pieces delivered one by one (1 ms apart) before the outcome.
    var pieces: [String] = []

    /// Streams `pieces`, then succeeds with their text, or fails with `failure` after them.
    static func stream(_ pieces: [String], then failure: ErrorType? = nil, after ms: Int64 = 100) -> Step {
        let outcome: Result<ProviderResponse, ProviderFailure> = failure.map {
            .failure(ProviderFailure($0, message: "\($0.rawValue) mid-stream"))
        } ?? .success(ProviderResponse(content: pieces.joined(), usage: Usage(inputTokens: 10, outputTokens: pieces.count)))
        return Step(latencyMs: ms, outcome: outcome, pieces: pieces)
    }

    static func ok(_ content: String = "ok", _ usage: Usage = Usage(inputTokens: 10, outputTokens: 20), after ms: Int64 = 100)
        -> Step
    {
        Step(latencyMs: ms, outcome: .success(ProviderResponse(content: content, usage: usage, finishReason: .stop)))
    }

    static func fail(
        _ type: ErrorType, status: Int? = nil, usage: Usage = .zero, after ms: Int64 = 50
    ) -> Step {
        Step(latencyMs: ms, outcome: .failure(ProviderFailure(type, httpStatus: status, message: "\(type.rawValue) from fake", usage: usage)))
    }
}

/// What the fake invoker was asked, and when (manual clock) the call started.
struct InvokerCall: Sendable {
    var request: ProviderRequest
    var startedAt: Moment
}

/// A thread-safe fake model: per model name, a queue of scripted steps; each call advances the clock.
/// A model with nothing left in its queue fails with `server_error` (and that shows in the test).
final class ScriptedInvoker: ModelInvoker {
    private struct State {
        var script: [String: [Step]]
        var calls: [InvokerCall] = []
    }

    let clock: ManualClock
    private let state: Mutex<State>
    private let onCall: (@Sendable (ProviderRequest) -> Void)?

    init(clock: ManualClock, _ script: [String: [Step]] = [:], onCall: (@Sendable (ProviderRequest) -> Void)? = nil) {
        self.clock = clock
        self.state = Mutex(State(script: script))
        self.onCall = onCall
    }

    func invoke(_ request: ProviderRequest) async -> Result<ProviderResponse, ProviderFailure> {
        let start = clock.now()
        let step = state.withLock { state -> Step in
            state.calls.append(InvokerCall(request: request, startedAt: start))
            guard var queue = state.script[request.model.name], !queue.isEmpty else {
                return Step(latencyMs: 1, outcome: .failure(ProviderFailure(.serverError, message: "unscripted")))
            }
            let next = queue.removeFirst()
            state.script[request.model.name] = queue
            return next
        }
        onCall?(request)
        await Task.yield()
        clock.advance(millis: step.latencyMs)
        return step.outcome
    }

    var calls: [InvokerCall] { state.withLock { $0.calls } }
    var calledModels: [String] { calls.map(\.request.model.name) }

    func stream(_ request: ProviderRequest, to receiver: any DeltaReceiver) async -> Result<ProviderResponse, ProviderFailure> {
        let start = clock.now()
        let step = state.withLock { state -> Step in
            state.calls.append(InvokerCall(request: request, startedAt: start))
            guard var queue = state.script[request.model.name], !queue.isEmpty else {
                return Step(latencyMs: 1, outcome: .failure(ProviderFailure(.serverError, message: "unscripted")))
            }
            let next = queue.removeFirst()
            state.script[request.model.name] = queue
            return next
        }
        clock.advance(millis: step.latencyMs)
        guard !step.pieces.isEmpty else {
            if case .success(let response) = step.outcome, !receiver.receive(ChatDelta(content: response.content)) {
                return .failure(ProviderFailure(.cancelled, message: "closed"))
            }
            return step.outcome
        }
        for piece in step.pieces {
            await Task.yield()
            clock.advance(millis: 1)
            guard receiver.receive(ChatDelta(content: piece)) else { return .failure(ProviderFailure(.cancelled, message: "closed")) }
        }
        return step.outcome
    }
}

/// Collects what a streaming request sends its caller.
final class CollectingSink: StreamSink {
    enum Event: Equatable {
        case delta(String, model: String)
        case finish(FinishReason?, model: String)
        case reset(model: String, reason: ErrorType)
    }

    private let events = Mutex<[Event]>([])

    func delta(_ delta: ChatDelta, model: String) {
        events.withLock { events in
            if delta.carriesAnswer { events.append(.delta(delta.content ?? "", model: model)) }
            if delta.finishReason != nil { events.append(.finish(delta.finishReason, model: model)) }
        }
    }

    func reset(model: String, reason: ErrorType) {
        events.withLock { $0.append(.reset(model: model, reason: reason)) }
    }

    var all: [Event] { events.withLock { $0 } }
}

/// Collects every attempt row, thread-safely.
final class CollectingRecorder: OutcomeRecorder {
    private let rows = Mutex<[AttemptRecord]>([])

    func record(_ attempt: AttemptRecord) { rows.withLock { $0.append(attempt) } }

    var all: [AttemptRecord] { rows.withLock { $0 } }
}

func messages(_ text: String = "hello") -> [ChatMessage] {
    [ChatMessage(role: .system, content: "be brief"), ChatMessage(role: .user, content: text)]
}

/// A router over the seed pool with a fresh clock, a scripted invoker and a collecting recorder.
struct Harness {
    let clock: ManualClock
    let invoker: ScriptedInvoker
    let recorder: CollectingRecorder
    let router: Router

    init(
        models: [ModelConfig] = Seed.models, chains: [String: [String]] = Seed.chains, _ script: [String: [Step]],
        onCall: (@Sendable (ProviderRequest) -> Void)? = nil
    ) throws {
        clock = ManualClock()
        invoker = ScriptedInvoker(clock: clock, script, onCall: onCall)
        recorder = CollectingRecorder()
        router = Router(
            pool: try Seed.pool(models: models, chains: chains), invoker: invoker, recorder: recorder, clock: clock)
    }
}

extension Result {
    var success: Success? {
        if case .success(let value) = self { return value }
        return nil
    }

    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
