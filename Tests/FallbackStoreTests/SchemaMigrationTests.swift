import Testing

@testable import FallbackStore

@Suite("Schema migration v2 -> v3")
struct SchemaMigrationTests {
    /// The 16 columns a v2 file has, in insert order.
    static let v2Insert = """
        INSERT INTO model_calls (timestamp, model_name, success, latency_ms, error_type, ts_ms, request_id, task, chain,
            provider, attempt_index, http_status, input_tokens, output_tokens, cost_usd, metadata)
        VALUES ('2026-11-23T00:00:00.000Z', 'gpt-4o', 0, 35, 'rate_limited', 1795392000000, 'r-old', 'summarize', 'summarize',
                'openai', 0, 429, 0, 0, 0.0, NULL),
               ('2026-11-23T00:00:00.500Z', 'claude', 1, 700, NULL, 1795392000500, 'r-old', 'summarize', 'summarize',
                'anthropic', 1, 200, 12, 40, 0.5, '{"k":1}');
        """

    /// A v2 file as the previous release left it: v1 + v2 tables, user_version 2, two rows.
    static func makeV2File(at path: String) throws {
        let db = try SQLiteConnection(path: path)
        try db.exec("PRAGMA journal_mode=WAL")
        try db.exec(CallLogSchema.createCallLog)
        try db.exec(CallLogSchema.createResilienceState)
        try db.exec("PRAGMA user_version = 2")
        try db.exec(v2Insert)
        try db.exec("INSERT INTO breaker_state VALUES ('gpt-4o', 'open', 1, 1, 1, 3, 0, 1, NULL, 'x', '000', 1)")
        db.close()
    }

    @Test func addsColumnsAndTableAndKeepsOldRows() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try Self.makeV2File(at: dir.path())
        let old = try SQLiteConnection(path: dir.path())
        #expect(throws: StoreError.self) { try old.prepare("SELECT served FROM model_calls") }  // not there before v3
        old.close()

        let capture = LogCapture()
        let log = try CallLog(path: dir.path(), logger: capture.logger)
        let migrated = capture.at(.info).first { $0.message == "call log schema migrated" }
        #expect(migrated?.metadata?["store.schema_from"] == "2" && migrated?.metadata?["store.schema_to"] == "6")

        let db = try SQLiteConnection(path: dir.path())
        #expect(try CallLogSchema.userVersion(of: db) == 6)
        let info = try db.prepare("PRAGMA table_info(model_calls)")
        var columns: [String] = []
        while try info.step() { columns.append(info.text(at: 1) ?? "") }
        #expect(columns == CallLogSchema.columns)
        #expect(try db.scalarInt("SELECT COUNT(*) FROM shadow_results") == 0)
        #expect(try db.scalarText("SELECT model_name FROM breaker_state") == "gpt-4o")

        // Old rows: every v1 column intact; served backfilled from success; the rest NULL / 0.
        let rows = try CallLogReader(path: dir.path()).rows(requestID: "r-old")
        try #require(rows.count == 2)
        #expect(rows[0].modelName == "gpt-4o" && !rows[0].success && rows[0].errorKind == .rateLimited && rows[0].httpStatus == 429)
        #expect(rows[0].timestamp == "2026-11-23T00:00:00.000Z" && rows[0].tsMillis == 1_795_392_000_000 && rows[0].latencyMs == 35)
        #expect(rows[1].modelName == "claude" && rows[1].success && rows[1].provider == "anthropic" && rows[1].attemptIndex == 1)
        #expect(rows[1].inputTokens == 12 && rows[1].outputTokens == 40 && rows[1].costUSD == 0.5 && rows[1].metadataJSON == #"{"k":1}"#)
        #expect(rows.map(\.served) == [false, true])
        #expect(rows.allSatisfy { $0.fallbackCount == nil && $0.primaryCostUSD == nil && !$0.shadow })

        // New rows go in beside them, and the report reads both.
        var fresh = attempt(1, at: 1_795_392_001_000)
        fresh.fallbackCount = 0
        fresh.primaryCostUSD = 0.001
        log.record(fresh)
        #expect(await log.flush().written == 1)
        let report = try CostReporter(path: dir.path()).report(
            sinceMillis: 1_795_392_000_000, untilMillis: 1_795_392_002_000, weeks: 1)
        #expect(report.totals == CostRow(
            key: "total", requests: 2, attempts: 3, inputTokens: 13, outputTokens: 42, spendUSD: 0.501,
            failedAttempts: 1))
        #expect(report.byTask.map(\.key) == ["summarize", "default"])
        await log.close()
    }

    @Test func aV1FileMigratesThroughEveryVersion() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let db = try SQLiteConnection(path: dir.path())
        try db.exec(CallLogSchema.createCallLog + "PRAGMA user_version = 1;")
        try db.exec(Self.v2Insert)
        db.close()
        let log = try CallLog(path: dir.path(), logger: LogCapture().logger)
        let check = try SQLiteConnection(path: dir.path())
        #expect(try CallLogSchema.userVersion(of: check) == 6)
        #expect(try check.scalarInt("SELECT COUNT(*) FROM health_buckets") == 0)
        #expect(try check.scalarInt("SELECT SUM(served) FROM model_calls") == 1)
        await log.close()
    }
}
