import CSQLite

/// `SQLITE_TRANSIENT`, which the C importer does not bring over: SQLite copies bound text at once.
let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A thin, typed wrapper over one `sqlite3*` handle.
///
/// Not `Sendable`: confine each connection to one serial queue (or one task) at a time.
/// The handle is closed by ``close()`` or on deinit; statements keep their connection alive.
public final class SQLiteConnection {
    /// How a transaction takes its locks (`BEGIN DEFERRED|IMMEDIATE|EXCLUSIVE`).
    public enum TransactionKind: String, Sendable {
        /// Locks are taken by the first read or write.
        case deferred = "DEFERRED"
        /// The write lock is taken at `BEGIN` (fails fast with `.busy` if another writer holds it).
        case immediate = "IMMEDIATE"
        /// Like `immediate`; in rollback-journal mode also keeps readers out.
        case exclusive = "EXCLUSIVE"
    }

    /// The path the connection was opened with.
    public let path: String
    private(set) var handle: OpaquePointer?
    /// Commits seen by the commit hook (explicit and autocommit); counted in C memory the hook can reach.
    private let commitCounter: UnsafeMutablePointer<Int>

    /// Opens (and by default creates) the database at `path`.
    /// - Parameters:
    ///   - readOnly: open without write access (and never create the file).
    ///   - busyTimeoutMs: how long a statement waits for another connection's lock before failing with `.busy`.
    public init(path: String, readOnly: Bool = false, busyTimeoutMs: Int32 = 5_000) throws(StoreError) {
        self.path = path
        commitCounter = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        commitCounter.initialize(to: 0)
        var db: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let db { sqlite3_close_v2(db) }
            // Every stored property is set, so deinit runs after this throw and frees `commitCounter`.
            throw .open(code: rc, message: message)
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, busyTimeoutMs)
        sqlite3_commit_hook(db, { context in
            context?.assumingMemoryBound(to: Int.self).pointee += 1
            return 0
        }, UnsafeMutableRawPointer(commitCounter))
    }

    deinit {
        close()
        commitCounter.deallocate()
    }

    /// Whether the handle is still open.
    public var isOpen: Bool { handle != nil }

    /// Number of transactions this connection has committed since it opened.
    public var commitCount: Int { commitCounter.pointee }

    /// Whether no transaction is open (SQLite's autocommit mode).
    public var isAutocommit: Bool {
        guard let handle else { return true }
        return sqlite3_get_autocommit(handle) != 0
    }

    /// Rows changed by the last INSERT/UPDATE/DELETE.
    public var changes: Int {
        guard let handle else { return 0 }
        return Int(sqlite3_changes(handle))
    }

    /// Row id of the last successful INSERT.
    public var lastInsertRowID: Int64 {
        guard let handle else { return 0 }
        return sqlite3_last_insert_rowid(handle)
    }

    /// The connection's latest error message.
    var lastMessage: String {
        guard let handle else { return "database connection is closed" }
        return String(cString: sqlite3_errmsg(handle))
    }

    /// Sets how long statements wait on another connection's lock.
    public func setBusyTimeout(ms: Int32) throws(StoreError) {
        guard let handle else { throw .closed }
        sqlite3_busy_timeout(handle, ms)
    }

    /// Runs one or more SQL statements that return no rows the caller needs.
    public func exec(_ sql: String) throws(StoreError) {
        guard let handle else { throw .closed }
        var errorMessage: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        guard rc == SQLITE_OK else {
            let message = errorMessage.map { String(cString: $0) } ?? lastMessage
            sqlite3_free(errorMessage)
            throw .fromStep(code: sqlite3_extended_errcode(handle), message: message)
        }
    }

    /// Compiles one statement.
    public func prepare(_ sql: String) throws(StoreError) -> SQLiteStatement {
        guard let handle else { throw .closed }
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else {
            let code = sqlite3_extended_errcode(handle)
            switch code & 0xFF {
            case SQLITE_BUSY, SQLITE_LOCKED: throw .busy(code: code, message: lastMessage)
            default: throw .prepare(code: code, message: lastMessage)
            }
        }
        return SQLiteStatement(connection: self, handle: statement)
    }

    /// Runs `body` inside `BEGIN ... COMMIT`; any error rolls the transaction back and is rethrown.
    public func transaction<T>(
        _ kind: TransactionKind = .immediate, _ body: () throws(StoreError) -> T
    ) throws(StoreError) -> T {
        try exec("BEGIN \(kind.rawValue)")
        do throws(StoreError) {
            let value = try body()
            try exec("COMMIT")
            return value
        } catch {
            rollbackIfNeeded()
            throw error
        }
    }

    /// Rolls back an open transaction, if any; errors are ignored (SQLite may already have rolled back).
    public func rollbackIfNeeded() {
        guard let handle, sqlite3_get_autocommit(handle) == 0 else { return }
        sqlite3_exec(handle, "ROLLBACK", nil, nil, nil)
    }

    /// The first column of the first row of `sql` as an integer, or `nil` when there is no row or it is NULL.
    public func scalarInt(_ sql: String) throws(StoreError) -> Int64? {
        let statement = try prepare(sql)
        guard try statement.step() else { return nil }
        return statement.int64OrNil(at: 0)
    }

    /// The first column of the first row of `sql` as text, or `nil` when there is no row or it is NULL.
    public func scalarText(_ sql: String) throws(StoreError) -> String? {
        let statement = try prepare(sql)
        guard try statement.step() else { return nil }
        return statement.text(at: 0)
    }

    /// Closes the handle. Statements still alive become unusable (they report `.closed`).
    /// Safe to call more than once.
    public func close() {
        guard let handle else { return }
        rollbackIfNeeded()
        sqlite3_close_v2(handle)
        self.handle = nil
    }
}
