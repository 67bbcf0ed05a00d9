import FallbackClient
import FallbackRPC
import Testing

/// Results of each method decoded into the typed API, and the requests the client sends.
@Suite struct FallbackClientDecodingTests {
    static let completeResult = """
        {"content": "Hello!", "model_used": "claude-3-5-sonnet", "model_id": "claude-3-5-sonnet-20241022",
         "provider": "anthropic", "task": "complex_reasoning", "chain": "complex_reasoning", "fallback_count": 1,
         "used_fallback": true, "latency_ms": 812,
         "attempts": [{"model": "gpt-4o", "provider": "openai", "outcome": "error", "error_type": "rate_limited",
                       "http_status": 429, "latency_ms": 35},
                      {"model": "claude-3-5-sonnet", "provider": "anthropic", "outcome": "success",
                       "error_type": null, "http_status": 200, "latency_ms": 777}],
         "usage": {"input_tokens": 12, "output_tokens": 40}, "cost_usd": 0.000636, "request_id": "r-42"}
        """

    @Test func completeResultDecodesIntoCompletion() throws {
        let result = try JSON.parse(Self.completeResult)
        let server = try FakeServer { _, _ in .result(result) }
        defer { server.stop() }
        let client = FallbackClient(socketPath: server.path, timeout: .seconds(5))

        let completion = try client.complete(
            [.system("Be brief."), .user("Hi")], task: "complex_reasoning", models: ["gpt-4o", "claude-3-5-sonnet"],
            maxTokens: 50, temperature: 0.5, timeoutMs: 2000, metadata: ["user": "u1"]
        )

        #expect(completion.content == "Hello!")
        #expect(completion.modelUsed == "claude-3-5-sonnet")
        #expect(completion.modelID == "claude-3-5-sonnet-20241022")
        #expect(completion.provider == "anthropic")
        #expect(completion.task == "complex_reasoning")
        #expect(completion.chain == "complex_reasoning")
        #expect(completion.fallbackCount == 1)
        #expect(completion.usedFallback)
        #expect(completion.latencyMs == 812)
        #expect(completion.usage == Usage(inputTokens: 12, outputTokens: 40))
        #expect(completion.costUSD == 0.000636)
        #expect(completion.requestID == "r-42")
        #expect(completion.raw == result)
        #expect(completion.attempts == [
            Completion.Attempt(model: "gpt-4o", provider: "openai", outcome: "error", errorType: "rate_limited",
                               httpStatus: 429, latencyMs: 35),
            Completion.Attempt(model: "claude-3-5-sonnet", provider: "anthropic", outcome: "success",
                               errorType: nil, httpStatus: 200, latencyMs: 777),
        ])
        #expect(completion.summary == "served by claude-3-5-sonnet (anthropic) after 1 fallback · 812 ms · $0.000636")

        let request = try #require(server.requests.first)
        #expect(request["jsonrpc"]?.stringValue == "2.0")
        #expect(request["method"]?.stringValue == "complete")
        #expect(request["id"]?.intValue != nil)
        let params = try #require(request["params"])
        let expected: JSON = [
            "messages": [["role": "system", "content": "Be brief."], ["role": "user", "content": "Hi"]],
            "task": "complex_reasoning", "models": ["gpt-4o", "claude-3-5-sonnet"], "max_completion_tokens": 50,
            "temperature": 0.5, "timeout_ms": 2000, "metadata": ["user": "u1"],
        ]
        #expect(params == expected)
    }

    @Test func promptCompleteSendsOnlyGivenOptions() throws {
        let result = try JSON.parse(Self.completeResult)
        let server = try FakeServer { _, _ in .result(result) }
        defer { server.stop() }
        let client = FallbackClient(socketPath: server.path, timeout: .seconds(5))

        _ = try client.complete("Hi", system: "Sys")

        let params = try #require(server.requests.first?["params"])
        #expect(params == ["messages": [["role": "system", "content": "Sys"], ["role": "user", "content": "Hi"]]])
    }

    @Test func completeResultWithoutModelUsedIsAProtocolError() throws {
        let server = try FakeServer { _, _ in .result(["content": "hi"]) }
        defer { server.stop() }
        let client = FallbackClient(socketPath: server.path, timeout: .seconds(5))

        let error = #expect(throws: FallbackClientError.self) { try client.complete("Hi") }
        guard case .protocolError(let detail) = error else {
            Issue.record("expected .protocolError, got \(String(describing: error))")
            return
        }
        #expect(detail.contains("model_used"))
    }

    @Test func pingStatusModelsAndChainsDecode() throws {
        let server = try FakeServer { request, _ in
            switch request["method"]?.stringValue {
            case "ping": .result("pong")
            case "status": .result(["version": "0.1.0", "in_flight": 0])
            case "models": .result(["models": [
                ["name": "gpt-4o", "provider": "openai", "provider_kind": "openai", "model_id": "gpt-4o",
                 "priority": 1, "max_tokens": 4096, "context_window": 128000, "cost_per_1k_input": 0.005,
                 "cost_per_1k_output": 0.015, "notes": "Primary"],
            ]])
            case "chains": .result(["chains": ["default": ["gpt-4o", "claude-3-haiku"], "fast": ["gpt-4o-mini"]],
                                    "default_chain": "default"])
            default: .error(.methodNotFound(request["method"]?.stringValue ?? ""))
            }
        }
        defer { server.stop() }
        let client = FallbackClient(socketPath: server.path, timeout: .seconds(5))

        #expect(try client.ping())
        #expect(try client.status().version == "0.1.0")
        #expect(try client.models() == [
            ModelInfo(name: "gpt-4o", provider: "openai", providerKind: "openai", modelID: "gpt-4o", priority: 1,
                      maxTokens: 4096, contextWindow: 128000, costPer1kInput: 0.005, costPer1kOutput: 0.015,
                      notes: "Primary"),
        ])
        #expect(try client.chains() == ["default": ["gpt-4o", "claude-3-haiku"], "fast": ["gpt-4o-mini"]])
        let table = try client.chainTable()
        #expect(table.defaultChain == "default")
        #expect(table.orderedTasks == ["default", "fast"])
        #expect(server.connectionCount == 1)
    }

    @Test func defaultSocketPathPrecedence() {
        let path: ([String: String], UInt32) -> String = FallbackClient.defaultSocketPath(environment:uid:)
        #expect(path(["FALLBACKD_SOCKET": "/a.sock", "XDG_RUNTIME_DIR": "/run/user/7"], 7) == "/a.sock")
        #expect(path(["FALLBACKD_SOCKET": "", "XDG_RUNTIME_DIR": "/run/user/7"], 7) == "/run/user/7/fallbackd.sock")
        #expect(path(["XDG_RUNTIME_DIR": "/run/user/7/"], 7) == "/run/user/7/fallbackd.sock")
        #expect(path(["XDG_RUNTIME_DIR": ""], 1000) == "/tmp/fallbackd-1000.sock")
        #expect(path([:], 0) == "/tmp/fallbackd-0.sock")
    }

    @Test(arguments: [(0.000636, "0.000636"), (0, "0.000000"), (1.5, "1.500000"), (0.0000004, "0.000000")])
    func costFormatting(dollars: Double, text: String) {
        #expect(Completion.formatCost(dollars) == text)
    }
}
