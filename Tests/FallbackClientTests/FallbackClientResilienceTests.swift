import FallbackClient
import FallbackRPC
import Testing

/// `health`, `breakers`, `breaker.reset`, `breaker.isolate`, `route` and `report`: the requests the
/// client sends and the typed values it decodes.
@Suite struct FallbackClientResilienceTests {
    static let healthResult = """
        {"window_minutes": 5, "models": [
          {"model": "gpt-4o", "provider": "openai", "calls": 20, "successes": 15, "success_rate": 0.75,
           "avg_latency_ms": 412.5, "p50_latency_ms": 380, "p95_latency_ms": 900, "p99_latency_ms": 1210,
           "degraded": true, "breaker": "open", "breaker_until": "2026-11-24T23:59:01.123Z"},
          {"model": "claude-3-haiku", "provider": "anthropic", "calls": 0, "successes": 0, "success_rate": 1.0,
           "avg_latency_ms": 0, "p50_latency_ms": 0, "p95_latency_ms": 0, "p99_latency_ms": 0,
           "degraded": false, "breaker": "closed", "breaker_until": null}]}
        """

    static let openBreaker = """
        {"model": "gpt-4o", "state": "open", "until": "2026-11-24T23:59:01.123Z", "until_ms": 1795564741123,
         "consecutive_failures": 0, "failure_rate": null, "slow_rate": null, "calls_in_window": 0, "trips": 2,
         "level": 2, "misconfigured": false, "last_trip_reason": "3 consecutive failures", "probes_in_flight": 0}
        """

    static let route: JSON = [
        ["model": "claude-3-5-sonnet", "place": 1, "reason": "healthy"],
        ["model": "gpt-4o-mini", "place": 2, "reason": "degraded"],
        ["model": "gpt-4o", "place": 3, "reason": "open", "until": "2026-11-24T23:59:01.123Z",
         "until_ms": 1_795_564_741_123],
        ["model": "claude-3-haiku", "place": 4, "reason": "isolated"],
    ]

    static let expectedRoute = [
        RouteEntry(place: 1, model: "claude-3-5-sonnet", reason: .healthy),
        RouteEntry(place: 2, model: "gpt-4o-mini", reason: .degraded),
        RouteEntry(place: 3, model: "gpt-4o", reason: .open, until: "2026-11-24T23:59:01.123Z", untilMs: 1_795_564_741_123),
        RouteEntry(place: 4, model: "claude-3-haiku", reason: .isolated),
    ]

    static func client(_ server: FakeServer) -> FallbackClient {
        FallbackClient(socketPath: server.path, timeout: .seconds(5))
    }

    @Test func healthDecodesAndSendsTheWindow() throws {
        let result = try JSON.parse(Self.healthResult)
        let server = try FakeServer { _, _ in .result(result) }
        defer { server.stop() }
        let client = Self.client(server)

        let models = try client.health(windowMinutes: 5)
        _ = try client.health()

        #expect(models == [
            ModelHealth(model: "gpt-4o", provider: "openai", windowMinutes: 5, calls: 20, successes: 15,
                        successRate: 0.75, avgLatencyMs: 412.5, p50LatencyMs: 380, p95LatencyMs: 900,
                        p99LatencyMs: 1210, degraded: true, breaker: .open, breakerUntil: "2026-11-24T23:59:01.123Z"),
            ModelHealth(model: "claude-3-haiku", provider: "anthropic", windowMinutes: 5),
        ])
        #expect(server.requests[0]["method"]?.stringValue == "health")
        #expect(server.requests[0]["params"] == ["window_minutes": 5])
        #expect(server.requests[1]["params"] == nil)
    }

    @Test func breakersDecodeAndOperationsSendTheModel() throws {
        let breaker = try JSON.parse(Self.openBreaker)
        let isolated: JSON = ["model": "gpt-4o", "state": "isolated", "until": nil, "until_ms": nil, "trips": 2,
                              "last_trip_reason": "isolated by operator"]
        let server = try FakeServer { request, _ in
            switch request["method"]?.stringValue {
            case "breakers": .result(["breakers": [breaker]])
            case "breaker.reset": .result(["model": "gpt-4o", "state": "closed", "level": 0, "trips": 2])
            case "breaker.isolate": .result(isolated)
            default: .error(.methodNotFound(request["method"]?.stringValue ?? ""))
            }
        }
        defer { server.stop() }
        let client = Self.client(server)

        #expect(try client.breakers() == [
            BreakerInfo(model: "gpt-4o", state: .open, until: "2026-11-24T23:59:01.123Z", untilMs: 1_795_564_741_123,
                        trips: 2, level: 2, lastTripReason: "3 consecutive failures"),
        ])
        let reset = try client.resetBreaker("gpt-4o")
        #expect(reset.state == .closed && reset.level == 0 && reset.until == nil)
        let isolatedInfo = try client.isolateBreaker("gpt-4o")
        #expect(isolatedInfo.state == .isolated && isolatedInfo.lastTripReason == "isolated by operator")

        #expect(server.requests[0]["params"] == nil)
        #expect(server.requests[1]["method"]?.stringValue == "breaker.reset")
        #expect(server.requests[1]["params"] == ["model": "gpt-4o"])
        #expect(server.requests[2]["method"]?.stringValue == "breaker.isolate")
        #expect(server.requests[2]["params"] == ["model": "gpt-4o"])
    }

    @Test func routeDecodesEntriesAndReasons() throws {
        let server = try FakeServer { _, _ in .result(["task": "fast", "chain": "default", "route": Self.route]) }
        defer { server.stop() }
        let client = Self.client(server)

        let route = try client.route(task: "fast")
        _ = try client.route()

        #expect(route == Self.expectedRoute)
        #expect(route.map(\.isTried) == [true, true, false, false])
        #expect(RouteEntry.summary(route) == "claude-3-5-sonnet:healthy → gpt-4o-mini:degraded → gpt-4o:open → claude-3-haiku:isolated")
        #expect(server.requests[0]["params"] == ["task": "fast"])
        #expect(server.requests[1]["params"] == nil)
    }

    @Test(arguments: [
        ("configured", true), ("healthy", true), ("degraded", true), ("half_open_probe", true), ("panic_probe", true),
        ("open", false), ("isolated", false), ("probe_busy", false), ("skipped_by_deadline", false), ("new_one", false),
    ])
    func reasonsSayWhetherTheModelIsTried(raw: String, tried: Bool) {
        #expect(RouteEntry.Reason(rawValue: raw).isTried == tried)
    }

    @Test func routeResultWithoutArrayIsAProtocolError() throws {
        let server = try FakeServer { _, _ in .result(["chain": "default"]) }
        defer { server.stop() }
        let error = #expect(throws: FallbackClientError.self) { try Self.client(server).route() }
        guard case .protocolError = error else {
            Issue.record("expected .protocolError, got \(String(describing: error))")
            return
        }
    }

    @Test func reportSendsEveryGivenParam() throws {
        let server = try FakeServer { request, _ in
            .result(["model": request["params"]?["model"] ?? .null, "counted": true, "breaker": "closed",
                     "cost_usd": 0.0015, "request_id": "r-9"])
        }
        defer { server.stop() }
        let client = Self.client(server)

        let receipt = try client.report(
            model: "gpt-4o", outcome: .error(type: "rate_limited"), latencyMs: 120,
            usage: Usage(inputTokens: 100, outputTokens: 50), httpStatus: 429, task: "chat",
            metadata: ["app": "web"]
        )
        try client.report(model: "gpt-4o-mini", outcome: .success, latencyMs: 80)

        #expect(receipt == ReportReceipt(model: "gpt-4o", counted: true, breaker: .closed, costUSD: 0.0015, requestID: "r-9"))
        let expected: JSON = [
            "model": "gpt-4o", "outcome": "error", "latency_ms": 120, "error_type": "rate_limited",
            "usage": ["input_tokens": 100, "output_tokens": 50], "http_status": 429, "task": "chat",
            "metadata": ["app": "web"],
        ]
        #expect(server.requests[0]["method"]?.stringValue == "report")
        #expect(server.requests[0]["params"] == expected)
        #expect(server.requests[1]["params"] == ["model": "gpt-4o-mini", "outcome": "success", "latency_ms": 80])
    }

    @Test func completionCarriesItsRoute() throws {
        var withRoute = try JSON.parse(FallbackClientDecodingTests.completeResult)
        withRoute["route"] = Self.route
        let result = withRoute
        let server = try FakeServer { _, _ in .result(result) }
        defer { server.stop() }

        let completion = try Self.client(server).complete("Hi")
        #expect(completion.route == Self.expectedRoute)

        let old = try Completion(json: JSON.parse(FallbackClientDecodingTests.completeResult))
        #expect(old.route.isEmpty)
    }

    @Test func allBreakersOpenExposesRetryAfterAndRoute() throws {
        let data: JSON = [
            "request_id": "r-3", "task": "default", "chain": "default", "latency_ms": 0, "attempts": [],
            "route": [["model": "gpt-4o", "place": 1, "reason": "open", "until": "2026-11-24T23:59:01.123Z",
                       "until_ms": 1_795_564_741_123]],
            "retry_after_ms": 41_250,
        ]
        let server = try FakeServer { request, _ in
            let retry: JSON = request["params"]?["task"]?.stringValue == "isolated" ? .null : 41_250
            var payload = data
            payload["retry_after_ms"] = retry
            return .error(RPCError(code: RPCErrorCode.allBreakersOpen, message: "every model has an open breaker", data: payload))
        }
        defer { server.stop() }
        let client = Self.client(server)

        let error = #expect(throws: FallbackClientError.self) { try client.complete("Hi") }
        #expect(error?.isAllBreakersOpen == true)
        #expect(error?.isAllModelsFailed == false)
        #expect(error?.retryAfterMs == 41_250)
        #expect(error?.requestID == "r-3")
        #expect(error?.attempts.isEmpty == true)
        #expect(error?.route.map(\.reason) == [.open])
        #expect(error?.description.contains("all breakers open") == true)

        let isolated = #expect(throws: FallbackClientError.self) { try client.complete("Hi", task: "isolated") }
        #expect(isolated?.retryAfterMs == nil)
        #expect(FallbackClientError.timeout.retryAfterMs == nil)
        #expect(FallbackClientError.timeout.route.isEmpty)
    }
}
