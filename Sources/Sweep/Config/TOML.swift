// A TOML reader for config files: tables and arrays of tables, dotted and quoted keys,
// strings, integers, floats (1e12, 3.5e-4), booleans, arrays and inline tables, comments.
// Not covered (not needed by our configs): dates and times, multi-line strings, hex/octal.

/// Parses TOML text into a table; `file` is only used in error messages.
public func parseTOML(_ text: String, file: String = "<toml>") throws -> ConfigTable {
    var reader = TOMLReader(bytes: Array(text.utf8), file: file)
    return try reader.document()
}

/// Reads the byte stream, keeping the line and column for messages.
struct TOMLReader {
    let bytes: [UInt8]
    let file: String
    /// JSON strings also allow the escape \/.
    var json = false
    var pos = 0
    var line = 1
    var lineStart = 0
    /// Arrays and tables open around the current position; capped so that a hostile file
    /// cannot overflow the stack of this recursive reader (or of the decoder after it).
    var depth = 0
    static let maxDepth = 64

    init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
    }

    var column: Int { pos - lineStart + 1 }
    var atEnd: Bool { pos >= bytes.count }
    var peek: UInt8? { pos < bytes.count ? bytes[pos] : nil }

    func fail(_ message: String) -> ConfigError {
        .syntax(file: file, line: line, column: column, message: message)
    }

    /// Enters one more level of nesting, or fails when there are already `maxDepth`.
    mutating func enter() throws {
        depth += 1
        guard depth <= Self.maxDepth else { throw fail("values nested more than \(Self.maxDepth) deep") }
    }

    mutating func advance() {
        if bytes[pos] == UInt8(ascii: "\n") {
            line += 1
            lineStart = pos + 1
        }
        pos += 1
    }

    mutating func skipSpaces() {
        while let c = peek, c == 0x20 || c == 0x09 { pos += 1 }
    }

    mutating func skipComment() {
        if peek == UInt8(ascii: "#") {
            while let c = peek, c != UInt8(ascii: "\n") { pos += 1 }
        }
    }

    /// Spaces, comments and newlines: the filler allowed inside arrays.
    mutating func skipFiller() {
        while true {
            skipSpaces()
            skipComment()
            if peek == UInt8(ascii: "\n") || peek == UInt8(ascii: "\r") { advance() } else { return }
        }
    }

    /// After a key/value pair or a header: optional comment, then end of line or file.
    mutating func endOfLine() throws {
        skipSpaces()
        skipComment()
        if peek == UInt8(ascii: "\r") { pos += 1 }
        if atEnd { return }
        guard peek == UInt8(ascii: "\n") else {
            throw fail("expected the end of the line, found '\(Character(UnicodeScalar(bytes[pos])))'")
        }
        advance()
    }

    mutating func document() throws -> ConfigTable {
        var root = ConfigTable()
        var current: [String] = []
        while true {
            skipFiller()
            guard let c = peek else { break }
            if c == UInt8(ascii: "[") {
                let (hLine, hCol) = (line, column)
                pos += 1
                let isArray = peek == UInt8(ascii: "[")
                if isArray { pos += 1 }
                skipSpaces()
                let path = try keyPath()
                skipSpaces()
                guard peek == UInt8(ascii: "]") else { throw fail("expected ']' to close the table header") }
                pos += 1
                if isArray {
                    guard peek == UInt8(ascii: "]") else { throw fail("expected ']]' to close the array-of-tables header") }
                    pos += 1
                }
                try endOfLine()
                try openTable(&root, path: path, appending: isArray, line: hLine, column: hCol)
                current = path
            } else {
                try keyValue(into: &root, prefix: current)
                try endOfLine()
            }
        }
        return root
    }

    /// Creates the table named by a `[a.b]` or `[[a.b]]` header.
    mutating func openTable(_ root: inout ConfigTable, path: [String], appending: Bool,
                            line: Int, column: Int) throws {
        let parents = Array(path.dropLast()), last = path[path.count - 1]
        try withTable(&root, path: parents, line: line, column: column) { table in
            if appending {
                if let existing = table[last] {
                    guard case .array(var items) = existing.value else {
                        throw self.fail("'\(path.joined(separator: "."))' is already defined and is not an array of tables")
                    }
                    items.append(ConfigNode(.table(ConfigTable()), line: line, column: column))
                    table.update(last, ConfigNode(.array(items), line: existing.line, column: existing.column))
                } else {
                    let first = ConfigNode(.table(ConfigTable()), line: line, column: column)
                    table.insert(last, ConfigNode(.array([first]), line: line, column: column), line: line, column: column)
                }
            } else if let existing = table[last] {
                guard case .table = existing.value else {
                    throw self.fail("'\(path.joined(separator: "."))' is already defined as a \(existing.value.kindName)")
                }
            } else {
                table.insert(last, ConfigNode(.table(ConfigTable()), line: line, column: column), line: line, column: column)
            }
        }
    }

    /// Runs `body` on the table at `path`, creating missing tables; an array of tables on
    /// the way means its last element (TOML's rule for `[[x]]` followed by `[x.y]`).
    func withTable(_ table: inout ConfigTable, path: [String], line: Int, column: Int,
                   _ body: (inout ConfigTable) throws -> Void) throws {
        guard let head = path.first else { return try body(&table) }
        let rest = Array(path.dropFirst())
        if table[head] == nil {
            table.insert(head, ConfigNode(.table(ConfigTable()), line: line, column: column), line: line, column: column)
        }
        let node = table[head]!
        switch node.value {
        case .table(var inner):
            try withTable(&inner, path: rest, line: line, column: column, body)
            table.update(head, ConfigNode(.table(inner), line: node.line, column: node.column))
        case .array(var items):
            guard let lastItem = items.last, case .table(var inner) = lastItem.value else {
                throw fail("'\(head)' is an array, not a table")
            }
            try withTable(&inner, path: rest, line: line, column: column, body)
            items[items.count - 1] = ConfigNode(.table(inner), line: lastItem.line, column: lastItem.column)
            table.update(head, ConfigNode(.array(items), line: node.line, column: node.column))
        default:
            throw fail("'\(head)' is already defined as a \(node.value.kindName), not a table")
        }
    }

    /// `key.path = value`, stored under `prefix`.
    mutating func keyValue(into root: inout ConfigTable, prefix: [String]) throws {
        let (kLine, kCol) = (line, column)
        let path = try keyPath()
        skipSpaces()
        guard peek == UInt8(ascii: "=") else { throw fail("expected '=' after the key '\(path.joined(separator: "."))'") }
        pos += 1
        skipSpaces()
        let value = try self.value()
        let full = prefix + path
        try withTable(&root, path: Array(full.dropLast()), line: kLine, column: kCol) { table in
            guard table.insert(full[full.count - 1], value, line: kLine, column: kCol) else {
                throw ConfigError.syntax(file: self.file, line: kLine, column: kCol,
                                         message: "duplicate key '\(full.joined(separator: "."))'")
            }
        }
    }

    mutating func keyPath() throws -> [String] {
        var parts: [String] = []
        while true {
            skipSpaces()
            parts.append(try key())
            guard parts.count <= Self.maxDepth else { throw fail("a key of more than \(Self.maxDepth) dotted parts") }
            skipSpaces()
            if peek == UInt8(ascii: ".") { pos += 1 } else { return parts }
        }
    }

    mutating func key() throws -> String {
        guard let c = peek else { throw fail("expected a key, found the end of the file") }
        if c == UInt8(ascii: "\"") { return try basicString() }
        if c == UInt8(ascii: "'") { return try literalString() }
        let start = pos
        while let c = peek, isBareKeyByte(c) { pos += 1 }
        guard pos > start else { throw fail("expected a key, found '\(Character(UnicodeScalar(c)))'") }
        return String(decoding: bytes[start..<pos], as: UTF8.self)
    }

    func isBareKeyByte(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39)
            || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
    }

    mutating func value() throws -> ConfigNode {
        let (vLine, vCol) = (line, column)
        guard let c = peek else { throw fail("expected a value, found the end of the file") }
        let v: ConfigValue
        switch c {
        case UInt8(ascii: "\""):
            if bytes[pos...].starts(with: Array("\"\"\"".utf8)) { throw fail("multi-line strings are not supported") }
            v = .string(try basicString())
        case UInt8(ascii: "'"): v = .string(try literalString())
        case UInt8(ascii: "["): v = try array()
        case UInt8(ascii: "{"): v = try inlineTable()
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            if bytes[pos...].starts(with: Array("true".utf8)) { pos += 4; v = .bool(true) }
            else if bytes[pos...].starts(with: Array("false".utf8)) { pos += 5; v = .bool(false) }
            else { throw fail("expected a value (string, number, boolean, array or table)") }
        default: v = try number()
        }
        return ConfigNode(v, line: vLine, column: vCol)
    }

    mutating func number() throws -> ConfigValue {
        let start = pos
        while let c = peek, isBareKeyByte(c) || c == UInt8(ascii: "+") || c == UInt8(ascii: ".") { pos += 1 }
        let raw = String(decoding: bytes[start..<pos], as: UTF8.self)
        guard !raw.isEmpty else {
            throw fail("expected a value (string, number, boolean, array or table)")
        }
        // Underscores may separate digits (1_000_000) but not start, end or double up.
        if raw.hasPrefix("_") || raw.hasSuffix("_") || raw.contains("__") {
            pos = start
            throw fail("malformed number '\(raw)'")
        }
        let text = raw.replacingOccurrences(of: "_", with: "")
        let isFloat = text.contains(".") || text.contains("e") || text.contains("E")
            || text == "inf" || text == "+inf" || text == "-inf" || text == "nan"
        if !isFloat, let i = Int(text) { return .integer(i) }
        if isFloat, text.last != ".", !text.contains(".e"), !text.hasPrefix("."), let d = Double(text) {
            return .float(d)
        }
        pos = start
        throw fail("malformed value '\(raw)'")
    }

    mutating func basicString() throws -> String {
        pos += 1
        var out: [UInt8] = []
        while true {
            guard let c = peek, c != UInt8(ascii: "\n") else { throw fail("unterminated string") }
            pos += 1
            if c == UInt8(ascii: "\"") { break }
            if c != UInt8(ascii: "\\") { out.append(c); continue }
            guard let e = peek else { throw fail("unterminated string") }
            pos += 1
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "/") where json: out.append(0x2F)
            case UInt8(ascii: "u"), UInt8(ascii: "U"):
                let n = e == UInt8(ascii: "u") ? 4 : 8
                guard pos + n <= bytes.count,
                      let code = UInt32(String(decoding: bytes[pos..<pos + n], as: UTF8.self), radix: 16),
                      let scalar = UnicodeScalar(code) else { throw fail("bad unicode escape") }
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
                pos += n
            default:
                pos -= 1
                throw fail("unknown escape '\\\(Character(UnicodeScalar(e)))'")
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    mutating func literalString() throws -> String {
        pos += 1
        let start = pos
        while let c = peek, c != UInt8(ascii: "'") {
            if c == UInt8(ascii: "\n") { throw fail("unterminated string") }
            pos += 1
        }
        guard !atEnd else { throw fail("unterminated string") }
        let s = String(decoding: bytes[start..<pos], as: UTF8.self)
        pos += 1
        return s
    }

    mutating func array() throws -> ConfigValue {
        try enter()
        defer { depth -= 1 }
        pos += 1
        var items: [ConfigNode] = []
        while true {
            skipFiller()
            if peek == UInt8(ascii: "]") { pos += 1; return .array(items) }
            items.append(try value())
            skipFiller()
            if peek == UInt8(ascii: ",") { pos += 1; continue }
            guard peek == UInt8(ascii: "]") else { throw fail("expected ',' or ']' in the array") }
        }
    }

    mutating func inlineTable() throws -> ConfigValue {
        try enter()
        defer { depth -= 1 }
        pos += 1
        var table = ConfigTable()
        skipSpaces()
        if peek == UInt8(ascii: "}") { pos += 1; return .table(table) }
        while true {
            skipSpaces()
            try keyValue(into: &table, prefix: [])
            skipSpaces()
            if peek == UInt8(ascii: ",") { pos += 1; continue }
            guard peek == UInt8(ascii: "}") else { throw fail("expected ',' or '}' in the inline table") }
            pos += 1
            return .table(table)
        }
    }
}
