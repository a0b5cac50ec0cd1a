// Strict decoding of config files into Decodable structs: an unknown key, a missing key or
// a value of the wrong kind is an error that names the key and the line it is on.
import Foundation

/// Decodes TOML or JSON config text into Decodable values, rejecting keys the type does not
/// declare. Usage: `try ConfigDecoder.decode(SweepConfig.self, fromTOML: text, file: path)`.
public enum ConfigDecoder {
    public static func decode<T: Decodable>(_ type: T.Type, fromTOML text: String, file: String) throws -> T {
        let table = try parseTOML(text, file: file)
        return try decode(type, from: ConfigNode(.table(table), line: 1, column: 1), file: file)
    }

    public static func decode<T: Decodable>(_ type: T.Type, fromJSON text: String, file: String) throws -> T {
        let node = try parseJSONConfig(text, file: file)
        return try decode(type, from: node, file: file)
    }

    /// Reads the file and decodes it as TOML, or as JSON when its name ends in `.json`.
    public static func decode<T: Decodable>(_ type: T.Type, contentsOf path: String) throws -> T {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError.unreadable(file: path, message: "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError.unreadable(file: path, message: "the file is not UTF-8 text")
        }
        if path.hasSuffix(".json") { return try decode(type, fromJSON: text, file: path) }
        return try decode(type, fromTOML: text, file: path)
    }

    static func decode<T: Decodable>(_ type: T.Type, from node: ConfigNode, file: String) throws -> T {
        do {
            return try T(from: NodeDecoder(node: node, file: file, codingPath: []))
        } catch let error as ConfigError {
            throw error
        } catch let DecodingError.dataCorrupted(context) {
            throw ConfigError.invalidValue(file: file, key: dotted(context.codingPath), line: node.line,
                                           message: context.debugDescription)
        }
    }
}

func dotted(_ path: [CodingKey]) -> String {
    path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        .replacingOccurrences(of: ".[", with: "[")
}

struct IndexKey: CodingKey {
    var stringValue: String { "\(intValue!)" }
    var intValue: Int?
    init(_ i: Int) { intValue = i }
    init?(stringValue: String) { return nil }
    init?(intValue: Int) { self.intValue = intValue }
}

struct NodeDecoder: Decoder {
    let node: ConfigNode
    let file: String
    let codingPath: [CodingKey]
    /// The type whose `init(from:)` this decoder was handed by `decodeScalar`'s fallback: if
    /// that type asks for itself again it is a scalar this decoder does not know.
    var fallback: ObjectIdentifier? = nil
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func mismatch(_ expected: String) -> ConfigError {
        .typeMismatch(file: file, key: dotted(codingPath), line: node.line, expected: expected,
                      found: node.value.kindName)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .table(let table) = node.value else { throw mismatch("a table") }
        // Synthesized CodingKeys return nil for names the type does not declare: that is
        // exactly the set of unknown keys.
        for key in table.keys where Key(stringValue: key) == nil {
            let line = table.keyPositions[key]?.0 ?? node.line
            throw ConfigError.unknownKey(file: file, key: dotted(codingPath + [AnyKey(key)]), line: line)
        }
        return KeyedDecodingContainer(TableContainer<Key>(table: table, decoder: self))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        guard case .array(let items) = node.value else { throw mismatch("an array") }
        return ArrayContainer(items: items, decoder: self)
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer { ValueContainer(decoder: self) }

    func child(_ node: ConfigNode, key: CodingKey) -> NodeDecoder {
        NodeDecoder(node: node, file: file, codingPath: codingPath + [key])
    }

    func decodeScalar<T: Decodable>(_ type: T.Type) throws -> T {
        // Every integer type (Int, UInt64 seeds, ...) goes through one range-checked path: the
        // fallback below would call back into this function for a type it does not list.
        if let integerType = type as? any FixedWidthInteger.Type { return try integer(integerType) as! T }
        switch (type, node.value) {
        case (is String.Type, .string(let s)): return s as! T
        case (is Bool.Type, .bool(let b)): return b as! T
        case (is Double.Type, .float(let x)): return x as! T
        case (is Double.Type, .integer(let i)): return Double(i) as! T
        case (is Float.Type, .float(let x)):
            guard Float(x).isFinite || !x.isFinite else { throw outOfRange("\(x)", "a 32-bit float") }
            return Float(x) as! T
        case (is Float.Type, .integer(let i)): return Float(i) as! T
        case (is String.Type, _): throw mismatch("a string")
        case (is Bool.Type, _): throw mismatch("a boolean")
        case (is Double.Type, _), (is Float.Type, _): throw mismatch("a number")
        default:
            // Structs, arrays and string enums decode through their containers; a scalar type
            // this decoder does not know would ask for itself again, forever.
            guard fallback != ObjectIdentifier(type) else {
                throw ConfigError.invalidValue(file: file, key: dotted(codingPath), line: node.line,
                                               message: "values of type \(T.self) cannot be read from a config")
            }
            var inner = self
            inner.fallback = ObjectIdentifier(type)
            return try T(from: inner)
        }
    }

    /// An integer of type `I` from an integer or a whole float (1e6 is a float in TOML),
    /// refused with the key and value when it does not fit.
    func integer<I: FixedWidthInteger>(_: I.Type) throws -> I {
        switch node.value {
        case .integer(let i):
            guard let v = I(exactly: i) else { throw outOfRange("\(i)", "\(I.self)") }
            return v
        case .float(let x):
            guard x.isFinite, x == x.rounded() else { throw mismatch("an integer") }
            guard let v = I(exactly: x) else { throw outOfRange("\(x)", "\(I.self)") }
            return v
        default: throw mismatch("an integer")
        }
    }

    func outOfRange(_ value: String, _ kind: String) -> ConfigError {
        .invalidValue(file: file, key: dotted(codingPath), line: node.line, message: "\(value) is out of range for \(kind)")
    }
}

struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { return nil }
}

struct TableContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let table: ConfigTable
    let decoder: NodeDecoder
    var codingPath: [CodingKey] { decoder.codingPath }
    var allKeys: [Key] { table.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { table[key.stringValue] != nil }

    func node(_ key: Key) throws -> ConfigNode {
        guard let n = table[key.stringValue] else {
            throw ConfigError.missingKey(file: decoder.file, key: dotted(codingPath + [key]), line: decoder.node.line)
        }
        return n
    }

    func decodeNil(forKey key: Key) throws -> Bool { table[key.stringValue] == nil }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decoder.child(try node(key), key: key).decodeScalar(type)
    }

    func nestedContainer<N: CodingKey>(keyedBy type: N.Type, forKey key: Key) throws -> KeyedDecodingContainer<N> {
        try decoder.child(try node(key), key: key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
        try decoder.child(try node(key), key: key).unkeyedContainer()
    }

    func superDecoder() throws -> Decoder { decoder }
    func superDecoder(forKey key: Key) throws -> Decoder { decoder.child(try node(key), key: key) }
}

struct ArrayContainer: UnkeyedDecodingContainer {
    let items: [ConfigNode]
    let decoder: NodeDecoder
    var currentIndex = 0
    var codingPath: [CodingKey] { decoder.codingPath }
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    mutating func next() throws -> NodeDecoder {
        guard !isAtEnd else {
            throw ConfigError.invalidValue(file: decoder.file, key: dotted(codingPath), line: decoder.node.line,
                                           message: "the array has too few elements")
        }
        defer { currentIndex += 1 }
        return decoder.child(items[currentIndex], key: IndexKey(currentIndex))
    }

    mutating func decodeNil() throws -> Bool { false }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decodeScalar(type) }
    mutating func nestedContainer<N: CodingKey>(keyedBy type: N.Type) throws -> KeyedDecodingContainer<N> {
        try next().container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer { try next().unkeyedContainer() }
    mutating func superDecoder() throws -> Decoder { try next() }
}

struct ValueContainer: SingleValueDecodingContainer {
    let decoder: NodeDecoder
    var codingPath: [CodingKey] { decoder.codingPath }
    func decodeNil() -> Bool { false }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decodeScalar(type) }
}

// MARK: JSON

/// Parses JSON into the same tree as TOML (so the same strict decoding applies). Numbers
/// without a fraction or exponent are integers; `null` is not allowed in configs.
func parseJSONConfig(_ text: String, file: String) throws -> ConfigNode {
    var reader = TOMLReader(bytes: Array(text.utf8), file: file)
    reader.json = true
    let node = try jsonValue(&reader)
    reader.skipFiller()
    guard reader.atEnd else { throw reader.fail("unexpected text after the JSON value") }
    return node
}

private func jsonValue(_ r: inout TOMLReader) throws -> ConfigNode {
    r.skipFiller()
    let (line, column) = (r.line, r.column)
    guard let c = r.peek else { throw r.fail("expected a JSON value, found the end of the file") }
    switch c {
    case UInt8(ascii: "{"), UInt8(ascii: "["):
        try r.enter()
        defer { r.depth -= 1 }
        return try jsonContainer(&r, line: line, column: column)
    case UInt8(ascii: "\""):
        return ConfigNode(.string(try r.basicString()), line: line, column: column)
    default:
        if r.bytes[r.pos...].starts(with: Array("null".utf8)) { throw r.fail("null is not allowed in a config") }
        return try r.value()
    }
}

/// An object or array; the reader stands on its opening bracket.
private func jsonContainer(_ r: inout TOMLReader, line: Int, column: Int) throws -> ConfigNode {
    switch r.peek {
    case UInt8(ascii: "{"):
        var table = ConfigTable()
        try jsonElements(&r, close: "}", in: "object") { r in
            r.skipFiller()
            let (kLine, kCol) = (r.line, r.column)
            guard r.peek == UInt8(ascii: "\"") else { throw r.fail("expected a quoted key") }
            let key = try r.basicString()
            r.skipFiller()
            guard r.peek == UInt8(ascii: ":") else { throw r.fail("expected ':' after the key '\(key)'") }
            r.pos += 1
            let v = try jsonValue(&r)
            guard table.insert(key, v, line: kLine, column: kCol) else {
                throw ConfigError.syntax(file: r.file, line: kLine, column: kCol, message: "duplicate key '\(key)'")
            }
        }
        return ConfigNode(.table(table), line: line, column: column)
    case UInt8(ascii: "["):
        var items: [ConfigNode] = []
        try jsonElements(&r, close: "]", in: "array") { r in items.append(try jsonValue(&r)) }
        return ConfigNode(.array(items), line: line, column: column)
    default:
        throw r.fail("expected '{' or '['")
    }
}

/// The elements of an object or array, separated by commas, up to `close`; the reader stands
/// on the opening bracket and ends after the closing one. `element` reads one element.
private func jsonElements(_ r: inout TOMLReader, close: Unicode.Scalar, in container: String,
                          _ element: (inout TOMLReader) throws -> Void) throws {
    r.pos += 1
    r.skipFiller()
    if r.peek == UInt8(ascii: close) { r.pos += 1; return }
    while true {
        try element(&r)
        r.skipFiller()
        if r.peek == UInt8(ascii: ",") { r.pos += 1; continue }
        guard r.peek == UInt8(ascii: close) else { throw r.fail("expected ',' or '\(close)' in the \(container)") }
        r.pos += 1
        return
    }
}
