// A small wrapper over libsqlite3: one connection, prepared statements with bindings,
// transactions, a busy timeout, and errors that carry SQLite's own message.
import CSQLite
import Foundation

public struct SQLiteError: Error, CustomStringConvertible, Equatable {
    public var code: Int32
    public var message: String
    public var path: String
    public var sql: String?

    public var description: String {
        var s = "sqlite \(path): \(message) (code \(code))"
        if let sql {
            s += " in: " + sql.prefix(80).split(whereSeparator: \.isWhitespace).joined(separator: " ")
        }
        return s
    }
}

/// SQLite's SQLITE_TRANSIENT: copy bound text before the call returns.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A value to bind to a statement parameter.
public enum SQLValue: Sendable, Equatable {
    case null
    case int(Int)
    case double(Double)
    case text(String)
}

public final class SQLiteConnection {
    let handle: OpaquePointer
    public let path: String

    /// Opens (creating when `create`; read-only when `readOnly`) the database; waits up to
    /// `busyTimeout` seconds for other writers' locks. `immutable` (read-only only) tells
    /// SQLite that nobody writes the file while it is open: no locks, and no `-wal` or `-shm`
    /// file created beside it.
    public init(path: String, create: Bool = true, readOnly: Bool = false, immutable: Bool = false, busyTimeout: Double = 30) throws {
        var db: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0))
            | SQLITE_OPEN_NOMUTEX | (immutable ? SQLITE_OPEN_URI : 0)
        let rc = sqlite3_open_v2(immutable && readOnly ? Self.immutableURI(path) : path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let db { sqlite3_close_v2(db) }
            throw SQLiteError(code: rc, message: message, path: path, sql: nil)
        }
        handle = db
        self.path = path
        sqlite3_busy_timeout(db, Int32(busyTimeout * 1000))
    }

    deinit { sqlite3_close_v2(handle) }

    /// `file:///ABSOLUTE/PATH?immutable=1`, with the characters a URI gives a meaning escaped.
    static func immutableURI(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var escaped = ""
        for ch in absolute.unicodeScalars {
            switch ch {
            case "%": escaped += "%25"
            case "?": escaped += "%3F"
            case "#": escaped += "%23"
            default: escaped.unicodeScalars.append(ch)
            }
        }
        return "file://" + escaped + "?immutable=1"
    }

    func error(_ rc: Int32, _ sql: String?) -> SQLiteError {
        SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(handle)), path: path, sql: sql)
    }

    /// Runs one or more statements that return no rows.
    public func execute(_ sql: String) throws {
        let rc = sqlite3_exec(handle, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { throw error(rc, sql) }
    }

    public func prepare(_ sql: String) throws -> SQLiteStatement {
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v2(handle, sql, -1, &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw error(rc, sql) }
        return SQLiteStatement(connection: self, handle: stmt, sql: sql)
    }

    /// Runs `body` in a transaction; `immediate` takes the write lock at the start so two
    /// writers cannot both read and then race to write.
    public func transaction<T>(immediate: Bool = true, _ body: () throws -> T) throws -> T {
        try execute(immediate ? "BEGIN IMMEDIATE" : "BEGIN")
        return try commitOrRollBack(execute: execute, body)
    }

    /// Convenience: prepare, bind, step through every row.
    public func query(_ sql: String, _ values: [SQLValue] = [], row: (SQLiteStatement) throws -> Void = { _ in }) throws {
        let stmt = try prepare(sql)
        try stmt.bind(values)
        while try stmt.step() { try row(stmt) }
    }

    public var changes: Int { Int(sqlite3_changes(handle)) }
    public var lastInsertID: Int64 { sqlite3_last_insert_rowid(handle) }
}

public final class SQLiteStatement {
    let connection: SQLiteConnection
    let handle: OpaquePointer
    let sql: String

    init(connection: SQLiteConnection, handle: OpaquePointer, sql: String) {
        self.connection = connection
        self.handle = handle
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    /// Resets the statement and binds `values` to parameters 1, 2, …
    public func bind(_ values: [SQLValue]) throws {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        for (i, v) in values.enumerated() {
            let index = Int32(i + 1)
            let rc: Int32
            switch v {
            case .null: rc = sqlite3_bind_null(handle, index)
            case .int(let x): rc = sqlite3_bind_int64(handle, index, Int64(x))
            case .double(let x): rc = sqlite3_bind_double(handle, index, x)
            case .text(let s): rc = sqlite3_bind_text(handle, index, s, -1, transient)
            }
            guard rc == SQLITE_OK else { throw connection.error(rc, sql) }
        }
    }

    /// Advances to the next row; false when done.
    public func step() throws -> Bool {
        let rc = sqlite3_step(handle)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        throw connection.error(rc, sql)
    }

    /// Binds and runs to completion (for INSERT/UPDATE).
    public func run(_ values: [SQLValue]) throws {
        try bind(values)
        while try step() {}
    }

    public func isNull(_ column: Int) -> Bool { sqlite3_column_type(handle, Int32(column)) == SQLITE_NULL }
    public func int(_ column: Int) -> Int { Int(sqlite3_column_int64(handle, Int32(column))) }
    public func double(_ column: Int) -> Double { sqlite3_column_double(handle, Int32(column)) }
    public func optionalDouble(_ column: Int) -> Double? { isNull(column) ? nil : double(column) }
    public func optionalInt(_ column: Int) -> Int? { isNull(column) ? nil : int(column) }
    public func text(_ column: Int) -> String {
        guard let p = sqlite3_column_text(handle, Int32(column)) else { return "" }
        return String(cString: p)
    }
    public func optionalText(_ column: Int) -> String? { isNull(column) ? nil : text(column) }
}
