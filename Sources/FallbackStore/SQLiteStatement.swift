import CSQLite

/// One prepared statement of a ``SQLiteConnection``. Parameter and column indexes follow SQLite:
/// parameters start at 1, columns at 0. Not `Sendable`; use it where its connection is used.
public final class SQLiteStatement {
    /// Keeps the connection (and its handle) alive as long as the statement exists.
    public let connection: SQLiteConnection
    private var handle: OpaquePointer?

    init(connection: SQLiteConnection, handle: OpaquePointer) {
        self.connection = connection
        self.handle = handle
    }

    deinit {
        sqlite3_finalize(handle)
    }

    private func live() throws(StoreError) -> OpaquePointer {
        guard let handle, connection.isOpen else { throw .closed }
        return handle
    }

    private func check(_ rc: Int32) throws(StoreError) {
        guard rc == SQLITE_OK else { throw .bind(code: rc, message: connection.lastMessage) }
    }

    /// Binds an integer, or NULL for `nil`.
    public func bind(_ value: Int64?, at index: Int32) throws(StoreError) {
        let statement = try live()
        guard let value else { return try bindNull(at: index) }
        try check(sqlite3_bind_int64(statement, index, value))
    }

    /// Binds an integer, or NULL for `nil`.
    public func bind(_ value: Int?, at index: Int32) throws(StoreError) {
        try bind(value.map { Int64($0) }, at: index)
    }

    /// Binds a real, or NULL for `nil`.
    public func bind(_ value: Double?, at index: Int32) throws(StoreError) {
        let statement = try live()
        guard let value else { return try bindNull(at: index) }
        try check(sqlite3_bind_double(statement, index, value))
    }

    /// Binds UTF-8 text (copied by SQLite), or NULL for `nil`. An empty string stays an empty string.
    public func bind(_ value: String?, at index: Int32) throws(StoreError) {
        let statement = try live()
        guard var value else { return try bindNull(at: index) }
        let rc = value.withUTF8 { bytes -> Int32 in
            guard let base = bytes.baseAddress, bytes.count > 0 else {
                return sqlite3_bind_text(statement, index, "", 0, sqliteTransient)
            }
            return UnsafeRawPointer(base).withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                sqlite3_bind_text(statement, index, $0, Int32(bytes.count), sqliteTransient)
            }
        }
        try check(rc)
    }

    /// Binds NULL.
    public func bindNull(at index: Int32) throws(StoreError) {
        try check(sqlite3_bind_null(try live(), index))
    }

    /// Advances the statement: `true` when a row is available, `false` when done.
    @discardableResult
    public func step() throws(StoreError) -> Bool {
        let statement = try live()
        let rc = sqlite3_step(statement)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw .fromStep(code: sqlite3_extended_errcode(connection.handle), message: connection.lastMessage)
        }
    }

    /// Resets the statement for another run and clears its bindings.
    public func reset() {
        guard let handle else { return }
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Number of columns in the result.
    public var columnCount: Int32 {
        guard let handle else { return 0 }
        return sqlite3_column_count(handle)
    }

    /// Whether column `index` of the current row is NULL.
    public func isNull(at index: Int32) -> Bool {
        guard let handle else { return true }
        return sqlite3_column_type(handle, index) == SQLITE_NULL
    }

    /// Column `index` as an integer (NULL reads as 0).
    public func int64(at index: Int32) -> Int64 {
        guard let handle else { return 0 }
        return sqlite3_column_int64(handle, index)
    }

    /// Column `index` as an integer, `nil` when NULL.
    public func int64OrNil(at index: Int32) -> Int64? {
        isNull(at: index) ? nil : int64(at: index)
    }

    /// Column `index` as a real (NULL reads as 0).
    public func double(at index: Int32) -> Double {
        guard let handle else { return 0 }
        return sqlite3_column_double(handle, index)
    }

    /// Column `index` as a real, `nil` when NULL.
    public func doubleOrNil(at index: Int32) -> Double? {
        isNull(at: index) ? nil : double(at: index)
    }

    /// Column `index` as UTF-8 text, `nil` when NULL.
    public func text(at index: Int32) -> String? {
        guard let handle, !isNull(at: index), let bytes = sqlite3_column_text(handle, index) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, index))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }
}
