import Testing

@testable import FallbackStore

@Suite("SQLiteConnection")
struct SQLiteConnectionTests {
    @Test func bindsAndReadsEveryType() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let db = try SQLiteConnection(path: dir.path())
        try db.exec("CREATE TABLE t (i INTEGER, r REAL, s TEXT, n TEXT)")
        let insert = try db.prepare("INSERT INTO t VALUES (?, ?, ?, ?)")
        try insert.bind(Int64.max, at: 1)
        try insert.bind(0.1, at: 2)
        try insert.bind("héllo \"json\" ✓", at: 3)
        try insert.bindNull(at: 4)
        try insert.step()
        insert.reset()
        try insert.bind(Int64?.none, at: 1)
        try insert.bind(Double?.none, at: 2)
        try insert.bind("", at: 3)
        try insert.bind(String?.none, at: 4)
        try insert.step()

        let select = try db.prepare("SELECT i, r, s, n, typeof(s) FROM t ORDER BY rowid")
        #expect(try select.step())
        #expect(select.int64(at: 0) == Int64.max)
        #expect(select.double(at: 1) == 0.1)
        #expect(select.text(at: 2) == "héllo \"json\" ✓")
        #expect(select.text(at: 3) == nil)
        #expect(try select.step())
        #expect(select.int64OrNil(at: 0) == nil)
        #expect(select.doubleOrNil(at: 1) == nil)
        #expect(select.text(at: 2) == "", "an empty string must not become NULL")
        #expect(select.text(at: 4) == "text")
        #expect(try select.step() == false)
    }

    @Test func transactionRollsBackOnError() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let db = try SQLiteConnection(path: dir.path())
        try db.exec("CREATE TABLE t (i INTEGER PRIMARY KEY)")
        #expect(throws: StoreError.self) {
            try db.transaction { () throws(StoreError) in
                try db.exec("INSERT INTO t VALUES (1)")
                try db.exec("INSERT INTO t VALUES (1)")  // constraint violation
            }
        }
        #expect(db.isAutocommit)
        #expect(try db.scalarInt("SELECT COUNT(*) FROM t") == 0)
    }

    @Test func errorsAreTyped() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        do {
            _ = try SQLiteConnection(path: dir.path("missing/dir/x.sqlite"))
            Issue.record("open should fail")
        } catch {
            guard case .open(let code, _) = error else { Issue.record("got \(error)"); return }
            #expect(code != 0)
        }
        let db = try SQLiteConnection(path: dir.path())
        do {
            _ = try db.prepare("SELEC nonsense")
            Issue.record("prepare should fail")
        } catch {
            guard case .prepare(_, let message) = error else { Issue.record("got \(error)"); return }
            #expect(message.contains("syntax error"))
        }
        db.close()
        #expect(throws: StoreError.closed) { try db.exec("SELECT 1") }
    }

    @Test func busyIsClassified() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let first = try SQLiteConnection(path: dir.path())
        try first.exec("PRAGMA journal_mode=WAL; CREATE TABLE t (i INTEGER)")
        let second = try SQLiteConnection(path: dir.path(), busyTimeoutMs: 10)
        try first.exec("BEGIN EXCLUSIVE")
        do {
            try second.exec("BEGIN IMMEDIATE")
            Issue.record("second writer should be busy")
        } catch {
            guard case .busy(let code, _) = error else { Issue.record("got \(error)"); return }
            #expect(code & 0xFF == 5)
            #expect(error.isTransient)
        }
        try first.exec("COMMIT")
        try second.exec("BEGIN IMMEDIATE; COMMIT")
    }

    @Test func commitHookCountsTransactions() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let db = try SQLiteConnection(path: dir.path())
        try db.exec("CREATE TABLE t (i INTEGER)")
        let before = db.commitCount
        try db.exec("INSERT INTO t VALUES (1)")
        try db.exec("INSERT INTO t VALUES (2)")
        #expect(db.commitCount == before + 2)
        try db.transaction { () throws(StoreError) in
            for i in 0..<10 { try db.exec("INSERT INTO t VALUES (\(i))") }
        }
        #expect(db.commitCount == before + 3)
    }
}
