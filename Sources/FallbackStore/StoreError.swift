import CSQLite

/// A failure of the SQLite store, carrying SQLite's (extended) result code and message.
///
/// `.busy` and `.full` are split out of `.step` because callers treat them as "retry later":
/// the call log keeps its rows and tries again on the next flush.
public enum StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The database file could not be opened or created.
    case open(code: Int32, message: String)
    /// A statement failed to compile (bad SQL, missing table).
    case prepare(code: Int32, message: String)
    /// A value could not be bound to a statement parameter.
    case bind(code: Int32, message: String)
    /// Executing a statement failed for a reason other than busy or full (I/O error, constraint, ...).
    case step(code: Int32, message: String)
    /// The database is locked by another connection (`SQLITE_BUSY` / `SQLITE_LOCKED`) past the busy timeout.
    case busy(code: Int32, message: String)
    /// The disk or the database is full (`SQLITE_FULL`).
    case full(code: Int32, message: String)
    /// The file holds a schema newer than this build understands.
    case schema(version: Int, message: String)
    /// The connection was already closed.
    case closed

    /// SQLite's extended result code, or 0 for errors that did not come from SQLite.
    public var code: Int32 {
        switch self {
        case .open(let code, _), .prepare(let code, _), .bind(let code, _),
             .step(let code, _), .busy(let code, _), .full(let code, _):
            code
        case .schema, .closed:
            0
        }
    }

    /// A human-readable message (SQLite's own text where there is one).
    public var message: String {
        switch self {
        case .open(_, let message), .prepare(_, let message), .bind(_, let message),
             .step(_, let message), .busy(_, let message), .full(_, let message),
             .schema(_, let message):
            message
        case .closed:
            "database connection is closed"
        }
    }

    /// Whether waiting and retrying the same write may succeed (busy, locked, full).
    public var isTransient: Bool {
        switch self {
        case .busy, .full: true
        default: false
        }
    }

    /// `kind (code): message`, for logs.
    public var description: String {
        switch self {
        case .open: "open failed (\(code)): \(message)"
        case .prepare: "prepare failed (\(code)): \(message)"
        case .bind: "bind failed (\(code)): \(message)"
        case .step: "step failed (\(code)): \(message)"
        case .busy: "database busy (\(code)): \(message)"
        case .full: "database full (\(code)): \(message)"
        case .schema(let version, let message): "schema version \(version): \(message)"
        case .closed: message
        }
    }

    /// Classifies a failed step/exec result: busy and full get their own cases.
    static func fromStep(code: Int32, message: String) -> StoreError {
        switch code & 0xFF {
        case SQLITE_BUSY, SQLITE_LOCKED: .busy(code: code, message: message)
        case SQLITE_FULL: .full(code: code, message: message)
        default: .step(code: code, message: message)
        }
    }
}
