import FallbackCore
import Synchronization

/// A provider that answers from a seeded generator instead of the network: for tests, demos
/// and benchmarks. Request `n` (per provider, 0-based) always draws from
/// `SeededGenerator(seed: seed, requestIndex: n)` (SplitMix64), so the same seed and request order give the same
/// latencies, failures and contents.
public struct SimulatedProvider: ProviderAdapter {
    public let settings: ProviderSettings
    public let simulation: SimulationSettings
    private let clock: any FallbackClock
    private let createdAt: Moment
    private let counter = RequestCounter()

    /// - Parameter clock: measures time-window outages from now, and the attempt deadline.
    public init(settings: ProviderSettings, clock: any FallbackClock) {
        self.settings = settings
        self.simulation = settings.simulation ?? SimulationSettings()
        self.clock = clock
        self.createdAt = clock.now()
    }

    /// How many requests this provider has started.
    public var requestCount: Int { Int(counter.value.load(ordering: .relaxed)) }

    public func complete(_ request: ProviderRequest) async -> Result<ProviderResponse, ProviderFailure> {
        let index = counter.value.wrappingAdd(1, ordering: .relaxed).oldValue
        let now = clock.now()
        let deadline = HTTPExchange.deadline(for: request, settings: settings, now: now)
        let elapsed = Double(now.nanos - createdAt.nanos) / 1e9
        let plan = Self.plan(
            simulation, requestIndex: index, elapsedSeconds: elapsed, modelID: request.model.modelID,
            messages: request.chat.messages)
        // Latency passes on the injected clock: a manual clock in tests jumps instead of waiting.
        var wakeUp = now.adding(millis: plan.latencyMs)
        if case .failure(let failure) = plan.outcome, failure.type == .timeout {
            wakeUp = now.adding(millis: plan.latencyMs * 5)
        }
        let pastDeadline = wakeUp >= deadline
        if pastDeadline { wakeUp = deadline }
        do {
            try Task.checkCancellation()
            try await clock.sleep(until: wakeUp)
        } catch {
            return .failure(ProviderFailure(.cancelled, message: "request cancelled"))
        }
        if pastDeadline, case .success = plan.outcome {
            return .failure(ProviderFailure(.timeout, message: "simulated latency exceeds the attempt deadline"))
        }
        return plan.outcome.map { Self.callingTools($0, request: request.chat) }
    }

    /// The same answer streamed word by word, a few milliseconds apart on the clock.
    public func stream(_ request: ProviderRequest, to receiver: any DeltaReceiver) async -> Result<ProviderResponse, ProviderFailure> {
        let outcome = await complete(request)
        guard case .success(let response) = outcome else { return outcome }
        if let text = response.message.content {
            var pieces: [String] = []
            var word = ""
            for character in text {
                word.append(character)
                if character == " " {
                    pieces.append(word)
                    word = ""
                }
            }
            if !word.isEmpty { pieces.append(word) }
            for (index, piece) in pieces.enumerated() {
                if index > 0 {
                    do {
                        try await clock.sleep(until: clock.now().adding(millis: Self.wordGapMs))
                    } catch {
                        return .failure(ProviderFailure(.cancelled, message: "request cancelled"))
                    }
                }
                guard receiver.receive(ChatDelta(content: piece)) else {
                    return .failure(ProviderFailure(.cancelled, message: "the request no longer needs this answer"))
                }
            }
        }
        let calls = response.message.toolCalls.enumerated().map { index, call in
            ToolCallDelta(index: index, id: call.id, name: call.name, arguments: call.arguments)
        }
        if !calls.isEmpty, !receiver.receive(ChatDelta(toolCalls: calls)) {
            return .failure(ProviderFailure(.cancelled, message: "the request no longer needs this answer"))
        }
        return outcome
    }

    /// Milliseconds between streamed words.
    static let wordGapMs: Int64 = 2

    /// What request `index` does: a pure function of the settings, the index, the time since
    /// creation (for time-window outages) and the request's content.
    public static func plan(
        _ simulation: SimulationSettings, requestIndex index: UInt64, elapsedSeconds: Double, modelID: String,
        messages: [ChatMessage]
    ) -> SimulatedPlan {
        var rng = SeededGenerator(seed: simulation.seed, requestIndex: index)
        // A fixed number of draws per request, whatever the settings, keeps sequences comparable.
        let latencyDraw = rng.nextInt(in: -simulation.latencyJitterMs, simulation.latencyJitterMs)
        let failureDraw = rng.nextUnit()
        let kindDraw = rng.next()
        let latency = max(0, simulation.latencyMs + (simulation.latencyJitterMs > 0 ? latencyDraw : 0))
        if let outage = simulation.outages.first(where: {
            $0.contains(requestIndex: Int(clamping: index), elapsedSeconds: elapsedSeconds)
        }) {
            return SimulatedPlan(latencyMs: latency, outcome: .failure(failure(outage.error, modelID: modelID)))
        }
        if failureDraw < simulation.failureRate {
            let kinds = simulation.failureKinds.isEmpty ? [ErrorType.serverError] : simulation.failureKinds
            let kind = kinds[Int(kindDraw % UInt64(kinds.count))]
            return SimulatedPlan(latencyMs: latency, outcome: .failure(failure(kind, modelID: modelID)))
        }
        var content = "[simulated \(modelID)] "
        if let lastUser = messages.last(where: { $0.role == .user }) {
            content += String(lastUser.text.prefix(60))
        }
        for _ in 0..<3 {
            content += " " + words[Int(rng.next() % UInt64(words.count))]
        }
        let inputChars = messages.reduce(0) { $0 + $1.text.count }
        let usage = Usage(inputTokens: (inputChars + 3) / 4, outputTokens: (content.count + 3) / 4)
        return SimulatedPlan(latencyMs: latency, outcome: .success(ProviderResponse(content: content, usage: usage)))
    }

    /// A simulated model asked with tools (and not told not to) answers a new user turn by calling
    /// the first tool it may, so demos and tests see tool calls go through.
    static func callingTools(_ response: ProviderResponse, request: ChatRequest) -> ProviderResponse {
        guard let first = request.tools.first, request.toolChoice != ToolChoice.none,
            request.messages.last?.role == .user
        else { return response }
        var name = first.name
        if case .function(let forced) = request.toolChoice { name = forced }
        var answer = response
        answer.message = AssistantMessage(
            content: nil, toolCalls: [ToolCall(id: "call_sim_\(request.messages.count)", name: name, arguments: "{}")])
        answer.finishReason = .toolCalls
        return answer
    }

    /// The failure a simulated provider reports for `type`, with a plausible HTTP status.
    public static func failure(_ type: ErrorType, modelID: String) -> ProviderFailure {
        let status: Int? =
            switch type {
            case .rateLimited: 429
            case .overloaded: 529
            case .serverError: 500
            case .auth: 401
            case .invalidRequest, .contextLength, .contentFilter, .misconfigured, .truncated: 400
            case .quota: 402
            case .badResponse: 200
            case .timeout, .connection, .cancelled, .localCapacity: nil
            }
        return ProviderFailure(
            type, httpStatus: status, message: "simulated \(type.rawValue) from \(modelID)",
            retryAfterMs: type == .rateLimited ? 1000 : nil)
    }

    private static let words = [
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
        "india", "juliett", "kilo", "lima", "mike", "november", "oscar", "papa",
    ]
}

/// What one simulated request will do.
public struct SimulatedPlan: Sendable, Hashable {
    public var latencyMs: Int64
    public var outcome: Result<ProviderResponse, ProviderFailure>
}

/// The per-provider request counter, shared by copies of the provider.
final class RequestCounter: Sendable {
    let value = Atomic<UInt64>(0)
}
