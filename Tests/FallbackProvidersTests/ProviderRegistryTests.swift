import FallbackCore
import NIOPosix
import Testing

@testable import FallbackProviders

@Suite struct ProviderRegistryTests {
    @Test func dispatchesByProviderName() async throws {
        let clock = ManualClock()
        let sim = SimulatedProvider(settings: ProviderSettings(name: "sim", kind: .simulated), clock: clock)
        let registry = ProviderRegistry(adapters: ["sim": sim])
        let ok = try await registry.invoke(
            testRequest([ChatMessage(role: .user, content: "hello")], model: testModel(provider: "sim", id: "s1"))
        ).get()
        #expect(ok.content.hasPrefix("[simulated s1] hello"))
        let unknown = await registry.invoke(testRequest([], model: testModel(provider: "nope"))).failure
        #expect(unknown?.type == .invalidRequest)
        #expect(unknown?.message.contains("nope") == true)
    }

    @Test func makeBuildsOneAdapterPerKind() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let transport = HTTPTransport(group: group)
        let settings = [
            ProviderSettings(name: "o", kind: .openai, apiKey: secretKey),
            ProviderSettings(name: "c", kind: .openaiCompatible, baseURL: "http://127.0.0.1:9/v1"),
            ProviderSettings(name: "a", kind: .anthropic, apiKey: secretKey),
            ProviderSettings(name: "g", kind: .gemini, apiKey: secretKey),
            ProviderSettings(name: "s", kind: .simulated, simulation: SimulationSettings(seed: 9)),
        ]
        let registry = ProviderRegistry.make(settings: settings, transport: transport, clock: ManualClock())
        #expect(registry.adapters["o"] is OpenAIAdapter)
        #expect(registry.adapters["c"] is OpenAIAdapter)
        #expect(registry.adapters["a"] is AnthropicAdapter)
        #expect(registry.adapters["g"] is GeminiAdapter)
        #expect((registry.adapters["s"] as? SimulatedProvider)?.simulation.seed == 9)
        #expect(registry.adapters["a"]?.settings.baseURL == "https://api.anthropic.com/v1")
        await transport.shutdown()
        try await group.shutdownGracefully()
    }

    @Test func defaultsPerKind() {
        #expect(ProviderKind(rawValue: "openai-compatible") == .openaiCompatible)
        #expect(ProviderKind.gemini.defaultBaseURL == "https://generativelanguage.googleapis.com/v1beta")
        let settings = ProviderSettings(name: "x", kind: .openai)
        #expect(settings.baseURL == "https://api.openai.com/v1")
        #expect(settings.connectTimeoutMs == 5000 && settings.timeoutMs == 30000)
        #expect(settings.anthropicVersion == "2023-06-01")
    }
}

@Suite struct TransportLifecycleTests {
    @Test func postAfterShutdownIsCancelled() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let transport = HTTPTransport(group: group)
        await transport.shutdown()
        let clock = ManualClock()
        let outcome = await transport.post(
            url: "http://127.0.0.1:9/x", headers: [:], body: .init(), deadline: clock.now().adding(millis: 1000), clock: clock)
        #expect(outcome.failure?.type == .cancelled)
        try await group.shutdownGracefully()
    }
}
