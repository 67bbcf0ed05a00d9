import FallbackClient
import FallbackRPC
import Testing

/// `cost.report`, `shadow.report`, the `shadow` param, the completion's cost comparison and -32004.
@Suite struct FallbackClientCostTests {
    static let row = """
        {"key": "complex_reasoning", "requests": 10, "attempts": 13, "input_tokens": 1200, "output_tokens": 4000,
         "spend_usd": 0.0421, "served_by_fallback": 3, "fallback_share": 0.3, "fallback_extra_usd": -0.0012,
         "failed_attempts": 3, "failed_cost_usd": 0.0005, "shadow_calls": 2, "shadow_spend_usd": 0.0031}
        """

    static let expectedRow = SpendRow(
        key: "complex_reasoning", requests: 10, attempts: 13, inputTokens: 1200, outputTokens: 4000, spendUSD: 0.0421,
        servedByFallback: 3, fallbackShare: 0.3, fallbackExtraUSD: -0.0012, failedAttempts: 3, failedCostUSD: 0.0005,
        shadowCalls: 2, shadowSpendUSD: 0.0031
    )

    static func costResult() throws -> JSON {
        let row = try JSON.parse(Self.row)
        var total = row
        total["key"] = "total"
        var week: JSON = ["key": "2026-11-16", "requests": 4, "spend_usd": 0.01]
        week["week_start"] = "2026-11-16T00:00:00.000Z"
        week["week_start_ms"] = 1_794_787_200_000
        return [
            "since": "2026-11-17T12:00:00.000Z", "until": "2026-11-24T12:00:00.000Z", "since_ms": 1_795_348_800_000,
            "until_ms": 1_795_953_600_000, "days": 7, "totals": total, "by_task": [row], "by_model": [], "weekly": [week],
        ]
    }

    static func client(_ server: FakeServer) -> FallbackClient {
        FallbackClient(socketPath: server.path, timeout: .seconds(5))
    }

    @Test func costReportDecodesEveryRowAndSendsOnlyGivenParams() throws {
        let result = try Self.costResult()
        let server = try FakeServer { _, _ in .result(result) }
        defer { server.stop() }
        let client = Self.client(server)

        let report = try client.costReport()
        _ = try client.costReport(days: 30, weeks: 12)
        _ = try client.costReport(since: 1_795_348_800_000, until: 1_795_953_600_000)
        _ = try client.costReport(since: 5, weeks: 4)

        #expect(report.byTask == [Self.expectedRow])
        var total = Self.expectedRow
        total.key = "total"
        #expect(report.totals == total)
        #expect(report.byModel.isEmpty)
        #expect(report.weekly == [
            SpendWeek(weekStart: "2026-11-16T00:00:00.000Z", weekStartMs: 1_794_787_200_000,
                      totals: SpendRow(key: "2026-11-16", requests: 4, spendUSD: 0.01)),
        ])
        #expect((report.since, report.sinceMs, report.untilMs, report.days) ==
            ("2026-11-17T12:00:00.000Z", 1_795_348_800_000, 1_795_953_600_000, 7))
        #expect(report.raw == result)
        #expect(server.requests[0]["method"]?.stringValue == "cost.report")
        #expect(server.requests[0]["params"] == nil)
        #expect(server.requests[1]["params"] == ["days": 30, "weeks": 12])
        #expect(server.requests[2]["params"] == ["since": 1_795_348_800_000, "until": 1_795_953_600_000])
        #expect(server.requests[3]["params"] == ["since": 5, "weeks": 4])
    }

    @Test func costReportWithoutTotalsIsAProtocolError() throws {
        let server = try FakeServer { _, _ in .result(["by_task": [], "by_model": []]) }
        defer { server.stop() }
        let error = #expect(throws: FallbackClientError.self) { try Self.client(server).costReport(days: 1) }
        guard case .protocolError = error else {
            Issue.record("expected .protocolError, got \(String(describing: error))")
            return
        }
    }

    @Test func shadowReportDecodesPairsWithMissingRatios() throws {
        let result: JSON = [
            "since": "2026-11-17T12:00:00.000Z", "until": "2026-11-24T12:00:00.000Z", "days": 30,
            "pairs": [
                ["primary_model": "gpt-4o", "shadow_model": "claude-3-5-sonnet", "calls": 40, "primary_success_rate": 0.95,
                 "shadow_success_rate": 0.9, "latency_ratio": 1.25, "cost_ratio": 0.8, "mean_similarity": 0.62],
                ["primary_model": "gpt-4o-mini", "shadow_model": "claude-3-haiku", "calls": 2, "primary_success_rate": 1.0,
                 "shadow_success_rate": 0.0, "latency_ratio": nil, "cost_ratio": nil, "mean_similarity": nil],
            ],
        ]
        let server = try FakeServer { _, _ in .result(result) }
        defer { server.stop() }
        let client = Self.client(server)

        let report = try client.shadowReport(days: 30)
        _ = try client.shadowReport()
        _ = try client.shadowReport(since: 10, until: 20)

        #expect(report.days == 30)
        #expect(report.pairs == [
            ShadowPair(primaryModel: "gpt-4o", shadowModel: "claude-3-5-sonnet", calls: 40, primarySuccessRate: 0.95,
                       shadowSuccessRate: 0.9, latencyRatio: 1.25, costRatio: 0.8, meanSimilarity: 0.62),
            ShadowPair(primaryModel: "gpt-4o-mini", shadowModel: "claude-3-haiku", calls: 2, primarySuccessRate: 1),
        ])
        #expect(server.requests[0]["method"]?.stringValue == "shadow.report")
        #expect(server.requests[0]["params"] == ["days": 30])
        #expect(server.requests[1]["params"] == nil)
        #expect(server.requests[2]["params"] == ["since": 10, "until": 20])
    }

    @Test func completeSendsShadowOnlyWhenGiven() throws {
        let result = try JSON.parse(FallbackClientDecodingTests.completeResult)
        let server = try FakeServer { _, _ in .result(result) }
        defer { server.stop() }
        let client = Self.client(server)

        _ = try client.complete("Hi")
        _ = try client.complete("Hi", shadow: true)
        _ = try client.complete([.user("Hi")], shadow: false)

        #expect(server.requests[0]["params"]?["shadow"] == nil)
        #expect(server.requests[1]["params"]?["shadow"] == true)
        #expect(server.requests[2]["params"]?["shadow"] == false)
    }

    @Test func completionCarriesPrimaryCostAndDelta() throws {
        var json = try JSON.parse(FallbackClientDecodingTests.completeResult)
        let old = try Completion(json: json)
        #expect(old.primaryCostUSD == nil && old.fallbackCostDeltaUSD == nil && old.costComparison == nil)

        json["primary_cost_usd"] = 0.00066
        json["fallback_cost_delta_usd"] = -0.000024
        let saved = try Completion(json: json)
        #expect(saved.primaryCostUSD == 0.00066)
        #expect(saved.fallbackCostDeltaUSD == -0.000024)
        #expect(saved.costComparison == "primary would have cost $0.000660 · delta -$0.000024 (saved)")

        json["fallback_cost_delta_usd"] = 0.0
        json["primary_cost_usd"] = 0.000636
        #expect(try Completion(json: json).costComparison == "primary would have cost $0.000636 · delta $0.000000")
        json["fallback_cost_delta_usd"] = -2.00000000000002e-10
        #expect(try Completion(json: json).costComparison == "primary would have cost $0.000636 · delta $0.000000")
        json["fallback_cost_delta_usd"] = 0.0003
        #expect(try Completion(json: json).costComparison == "primary would have cost $0.000636 · delta +$0.000300 (extra)")
    }

    @Test func budgetErrorExposesItsFigures() throws {
        let data: JSON = [
            "task": "summarize", "budget_usd": 5.0, "spent_usd": 5.0125, "resets_at": "2026-11-25T00:00:00.000Z",
            "resets_at_ms": 1_795_996_800_000,
        ]
        let server = try FakeServer { _, _ in
            .error(RPCError(code: RPCErrorCode.budgetExceeded, message: "daily budget of $5.0 for task summarize is spent",
                            data: data))
        }
        defer { server.stop() }

        let error = #expect(throws: FallbackClientError.self) { try Self.client(server).complete("Hi", task: "summarize") }
        #expect(error?.isBudgetExceeded == true)
        #expect(error?.budget == BudgetRefusalInfo(
            task: "summarize", budgetUSD: 5, spentUSD: 5.0125, resetsAt: "2026-11-25T00:00:00.000Z",
            resetsAtMs: 1_795_996_800_000))
        #expect(error?.description.contains("budget exceeded") == true)
        #expect(FallbackClientError.timeout.budget == nil)
        #expect(RouteEntry.Reason(rawValue: "over_cost_ratio") == .overCostRatio)
        #expect(!RouteEntry.Reason.overCostRatio.isTried)
    }
}
