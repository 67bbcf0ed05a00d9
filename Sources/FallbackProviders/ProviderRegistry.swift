import FallbackCore

/// The ``ModelInvoker`` the router calls: dispatches each request to the adapter of the
/// provider its model names.
public struct ProviderRegistry: ModelInvoker {
    public let adapters: [String: any ProviderAdapter]

    /// - Parameter adapters: keyed by provider name (`[providers.NAME]`).
    public init(adapters: [String: any ProviderAdapter]) {
        self.adapters = adapters
    }

    /// Builds the adapter each provider's kind calls for: OpenAI (also for `openai-compatible`),
    /// Anthropic, Gemini, or a simulation. All HTTP adapters share `transport`.
    public static func make(settings: [ProviderSettings], transport: HTTPTransport, clock: any FallbackClock)
        -> ProviderRegistry
    {
        var adapters: [String: any ProviderAdapter] = [:]
        for provider in settings {
            adapters[provider.name] = makeAdapter(provider, transport: transport, clock: clock)
        }
        return ProviderRegistry(adapters: adapters)
    }

    /// The adapter for one provider.
    public static func makeAdapter(_ settings: ProviderSettings, transport: HTTPTransport, clock: any FallbackClock)
        -> any ProviderAdapter
    {
        switch settings.kind {
        case .openai, .openaiCompatible: OpenAIAdapter(settings: settings, transport: transport, clock: clock)
        case .anthropic: AnthropicAdapter(settings: settings, transport: transport, clock: clock)
        case .gemini: GeminiAdapter(settings: settings, transport: transport, clock: clock)
        case .simulated: SimulatedProvider(settings: settings, clock: clock)
        }
    }

    public func invoke(_ request: ProviderRequest) async -> Result<ProviderResponse, ProviderFailure> {
        guard let adapter = adapters[request.model.provider] else {
            return .failure(
                ProviderFailure(.invalidRequest, message: "no provider named '\(request.model.provider)'"))
        }
        return await adapter.complete(request)
    }

    public func stream(_ request: ProviderRequest, to receiver: any DeltaReceiver) async -> Result<ProviderResponse, ProviderFailure> {
        guard let adapter = adapters[request.model.provider] else {
            return .failure(
                ProviderFailure(.invalidRequest, message: "no provider named '\(request.model.provider)'"))
        }
        return await adapter.stream(request, to: receiver)
    }
}
