// A small wrapper over libpq: one blocking connection opened from a postgresql:// URL,
// parameterised statements (PQexecParams, text format), transactions, and errors that carry
// the server's message and SQLSTATE.
import CLibPQ
import Foundation

public struct PostgresError: Error, CustomStringConvertible, Equatable {
    /// The five-character SQLSTATE ("40P01" deadlock, "23505" unique violation, …); empty when
    /// the error came from libpq itself (a lost connection).
    public var sqlState: String
    public var message: String
    /// The store's URL with any password hidden.
    public var url: String
    public var sql: String?

    public var description: String {
        var s = "postgresql \(url): \(message)"
        if !sqlState.isEmpty { s += " (SQLSTATE \(sqlState))" }
        if let sql { s += " in: \(oneLine(String(sql.prefix(80))))" }
        return s
    }
}

/// The URL with the password (in the user part or a `password=` parameter) replaced by ***,
/// for messages.
public func redactedStoreURL(_ url: String) -> String {
    var s = url
    if let scheme = s.range(of: "://"), let at = s[scheme.upperBound...].firstIndex(of: "@"),
       let colon = s[scheme.upperBound..<at].firstIndex(of: ":") {
        s.replaceSubrange(s.index(after: colon)..<at, with: "***")
    }
    if let p = s.range(of: "password=") {
        let end = s[p.upperBound...].firstIndex(of: "&") ?? s.endIndex
        s.replaceSubrange(p.upperBound..<end, with: "***")
    }
    return s
}

/// One row of a result; columns are read from libpq's text format.
public struct PostgresRow: StoreRow {
    let result: OpaquePointer
    let row: Int32

    public func isNull(_ column: Int) -> Bool { PQgetisnull(result, row, Int32(column)) != 0 }
    public func int(_ column: Int) -> Int { Int(strtoll(PQgetvalue(result, row, Int32(column)), nil, 10)) }
    /// strtod reads the server's "NaN" and "Infinity" as well as ordinary numbers.
    public func double(_ column: Int) -> Double { strtod(PQgetvalue(result, row, Int32(column)), nil) }
    public func text(_ column: Int) -> String { String(cString: PQgetvalue(result, row, Int32(column))) }
}

public final class PostgresConnection {
    let handle: OpaquePointer
    /// Open transactions (0 or 1): a connection lost inside one is not silently replaced.
    var transactionDepth = 0
    /// The URL it was opened with, password hidden.
    public let url: String

    /// Connects with a libpq URL (`postgresql://user@host:port/db?param=value`). A server that
    /// cannot be reached is `StoreError.cannotConnect` naming host, port and libpq's message.
    public init(url: String) throws {
        self.url = redactedStoreURL(url)
        let (host, port) = Self.endpoint(url)
        guard let conn = PQconnectdb(Self.withDefaultTimeouts(url)) else {
            throw StoreError.cannotConnect(url: self.url, host: host, port: port, message: "out of memory")
        }
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = oneLine(String(cString: PQerrorMessage(conn)))
            PQfinish(conn)
            throw StoreError.cannotConnect(url: self.url, host: host, port: port, message: message)
        }
        handle = conn
        // libpq prints server notices ("relation already exists, skipping") on stderr by default.
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
        if !url.contains("statement_timeout") {
            try execute("SET statement_timeout = '\(Self.defaultStatementTimeout)s'")
        }
    }

    deinit { PQfinish(handle) }

    /// Seconds to wait for a connection, and for one statement, unless the URL says otherwise
    /// (`?connect_timeout=N`, `?options=-c%20statement_timeout=N`): a server that accepts and
    /// never answers must not hang a worker forever.
    public static let defaultConnectTimeout = 10
    public static let defaultStatementTimeout = 600

    /// The URL with `connect_timeout` added when it has none.
    public static func withDefaultTimeouts(_ url: String) -> String {
        guard !url.contains("connect_timeout") else { return url }
        if url.contains("://") { return url + (url.contains("?") ? "&" : "?") + "connect_timeout=\(defaultConnectTimeout)" }
        return url + " connect_timeout=\(defaultConnectTimeout)"
    }

    /// Host and port a URL points at, as libpq would resolve them (its defaults: PGHOST/PGPORT,
    /// then the local socket and 5432).
    static func endpoint(_ url: String) -> (host: String, port: String) {
        let env = ProcessInfo.processInfo.environment
        var host = env["PGHOST"], port = env["PGPORT"]
        if let options = PQconninfoParse(url, nil) {
            var o = options
            while let keyword = o.pointee.keyword {
                if let value = o.pointee.val {
                    switch String(cString: keyword) {
                    case "host", "hostaddr": host = String(cString: value)
                    case "port": port = String(cString: value)
                    default: break
                    }
                }
                o += 1
            }
            PQconninfoFree(options)
        }
        return (host ?? "the local socket", port ?? "5432")
    }

    func error(_ result: OpaquePointer?, _ sql: String?) -> PostgresError {
        var state = ""
        var message = String(cString: PQerrorMessage(handle))
        if let result {
            if let s = PQresultErrorField(result, Int32(UInt8(ascii: "C"))) { state = String(cString: s) }
            message = String(cString: PQresultErrorMessage(result))
        }
        return PostgresError(sqlState: state, message: oneLine(message), url: url, sql: sql)
    }

    /// A connection that broke (the server restarted, a network blip) fails the statement that
    /// found it broken; the next statement outside a transaction connects again. Statements are
    /// not retried: the server may have committed one before the connection dropped.
    func reconnectIfLost() {
        if transactionDepth == 0 && PQstatus(handle) == CONNECTION_BAD { PQreset(handle) }
    }

    /// Runs one or more statements without parameters (a migration script).
    public func execute(_ sql: String) throws {
        reconnectIfLost()
        let result = PQexec(handle, sql)
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else { throw error(result, sql) }
    }

    /// Runs one statement with `values` bound to $1, $2, … (sent as text; NaN as NULL, as
    /// SQLite stores it), calling `row` for each result row; returns the rows it affected.
    @discardableResult
    public func query(_ sql: String, _ values: [SQLValue] = [], row: (PostgresRow) throws -> Void = { _ in }) throws -> Int {
        let texts: [String?] = values.map {
            switch $0 {
            case .null: return nil
            case .int(let x): return String(x)
            case .double(let x): return x.isNaN ? nil : "\(x)"
            case .text(let s): return s
            }
        }
        reconnectIfLost()
        let result = withCStrings(texts) { pointers in
            PQexecParams(handle, sql, Int32(pointers.count), nil, pointers, nil, nil, 0)
        }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard let result, status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else { throw error(result, sql) }
        let rows = PQntuples(result)
        for r in 0..<rows { try row(PostgresRow(result: result, row: r)) }
        return Int(strtol(PQcmdTuples(result), nil, 10))
    }

    /// Runs `body` in a transaction (READ COMMITTED), rolled back when it throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN")
        transactionDepth += 1
        defer { transactionDepth -= 1 }
        return try commitOrRollBack(execute: execute, body)
    }
}

extension PostgresConnection: StoreDatabase {
    /// Runs a statement written with SQLite's `?` placeholders, numbered for PostgreSQL.
    @discardableResult
    public func perform(_ sql: String, _ values: [SQLValue], row: (PostgresRow) throws -> Void) throws -> Int {
        try query(numberedPlaceholders(sql), values, row: row)
    }

    public func inTransaction<T>(_ body: () throws -> T) throws -> T { try transaction(body) }
}

/// `?` → `$1`, `$2`, … outside quoted strings and names.
func numberedPlaceholders(_ sql: String) -> String {
    var out = ""
    out.reserveCapacity(sql.utf8.count + 16)
    var n = 0
    var quote: Character?
    for c in sql {
        if let q = quote {
            if c == q { quote = nil }
        } else if c == "'" || c == "\"" {
            quote = c
        } else if c == "?" {
            n += 1
            out += "$\(n)"
            continue
        }
        out.append(c)
    }
    return out
}

/// Calls `body` with C strings for `strings` (NULL for nil), valid only during the call.
private func withCStrings<R>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    let copies = strings.map { $0.map { strdup($0)! } }
    defer { for c in copies { free(c) } }
    return body(copies.map { $0.map { UnsafePointer($0) } })
}
