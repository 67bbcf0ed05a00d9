import Testing

@testable import FallbackStore

@Suite("CallLogSchema")
struct CallLogSchemaTests {
    @Test func walModeVersionAndColumns() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let log = try CallLog(path: dir.path(), logger: LogCapture().logger)
        let db = try SQLiteConnection(path: dir.path())
        #expect(try db.scalarText("PRAGMA journal_mode") == "wal")
        #expect(try CallLogSchema.userVersion(of: db) == 6)
        #expect(CallLogSchema.currentVersion == 6)
        #expect(CallLogSchema.migrations.map(\.version) == [1, 2, 3, 4, 5, 6])
        let tables = try db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        var tableNames: [String] = []
        while try tables.step() { tableNames.append(tables.text(at: 0) ?? "") }
        #expect(tableNames == ["breaker_state", "health_buckets", "model_calls", "shadow_results"])

        let info = try db.prepare("PRAGMA table_info(model_calls)")
        var columns: [(String, String)] = []
        while try info.step() { columns.append((info.text(at: 1) ?? "", info.text(at: 2) ?? "")) }
        #expect(columns.map(\.0) == [
            "id", "timestamp", "model_name", "success", "latency_ms", "error_type",
            "ts_ms", "request_id", "task", "chain", "provider", "attempt_index",
            "http_status", "input_tokens", "output_tokens", "cost_usd", "metadata",
            "served", "fallback_count", "primary_cost_usd", "shadow",
            "cached_input_tokens", "cache_write_tokens", "reasoning_tokens", "app", "hedged",
        ])
        #expect(columns.map(\.0) == CallLogSchema.columns)
        #expect(columns.map(\.1) == [
            "INTEGER", "TEXT", "TEXT", "INTEGER", "INTEGER", "TEXT", "INTEGER", "TEXT", "TEXT", "TEXT", "TEXT",
            "INTEGER", "INTEGER", "INTEGER", "INTEGER", "REAL", "TEXT", "INTEGER", "INTEGER", "REAL", "INTEGER",
            "INTEGER", "INTEGER", "INTEGER", "TEXT", "INTEGER",
        ])
        let notNull = try db.prepare("SELECT name, \"notnull\", dflt_value FROM pragma_table_info('model_calls') WHERE \"notnull\" = 1")
        var required: [String] = []
        while try notNull.step() { required.append("\(notNull.text(at: 0) ?? "")=\(notNull.text(at: 2) ?? "")") }
        #expect(required == ["served=0", "shadow=0", "cached_input_tokens=0", "cache_write_tokens=0", "reasoning_tokens=0", "hedged=0"])

        let shadowInfo = try db.prepare("PRAGMA table_info(shadow_results)")
        var shadowColumns: [String] = []
        while try shadowInfo.step() { shadowColumns.append(shadowInfo.text(at: 1) ?? "") }
        #expect(shadowColumns == CallLogSchema.shadowColumns)
        #expect(shadowColumns.count == 21)
        let indexes = try db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'model_calls' ORDER BY name")
        var names: [String] = []
        while try indexes.step() { names.append(indexes.text(at: 0) ?? "") }
        #expect(names == [
            "model_calls_app_ts", "model_calls_report", "model_calls_request", "model_calls_ts",
        ])
        let covered = try db.prepare("SELECT name FROM pragma_index_info('model_calls_report') ORDER BY seqno")
        var coveredColumns: [String] = []
        while try covered.step() { coveredColumns.append(covered.text(at: 0) ?? "") }
        #expect(coveredColumns == [
            "task", "model_name", "ts_ms", "served", "shadow", "success", "fallback_count",
            "input_tokens", "output_tokens", "cost_usd", "primary_cost_usd",
        ])
        #expect(try db.scalarText("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'shadow_results'") == "shadow_results_ts")
        #expect(try db.scalarText("SELECT sql FROM sqlite_master WHERE name = 'model_calls'")?.contains("AUTOINCREMENT") == true)
        // synchronous=NORMAL is per connection: check the writer's own setting through a fresh apply.
        #expect(try CallLogSchema.apply(to: db) == 6)
        #expect(try db.scalarInt("PRAGMA synchronous") == 1)
        await log.close()
    }

    @Test func reopeningIsIdempotent() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let first = try CallLog(path: dir.path(), logger: LogCapture().logger)
        first.record(attempt(1))
        _ = await first.flush()
        await first.close()
        let second = try CallLog(path: dir.path(), logger: LogCapture().logger)
        #expect(try CallLogReader(path: dir.path()).count() == 1)
        await second.close()
    }

    @Test func newerSchemaIsRefused() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let db = try SQLiteConnection(path: dir.path())
        try db.exec("PRAGMA user_version = 99")
        do {
            _ = try CallLog(path: dir.path(), logger: LogCapture().logger)
            Issue.record("a newer schema must be refused")
        } catch {
            guard case .schema(let version, _) = error else { Issue.record("got \(error)"); return }
            #expect(version == 99)
        }
    }
}
