// The parsed form of a config file (TOML or JSON): a tree of values, each remembering the
// line and column it came from so that errors can point at the file.

/// One value of a config file.
public indirect enum ConfigValue: Equatable, Sendable {
    case string(String)
    case integer(Int)
    case float(Double)
    case bool(Bool)
    case array([ConfigNode])
    case table(ConfigTable)

    /// A word for the kind of value, used in type-mismatch messages.
    public var kindName: String {
        switch self {
        case .string: return "string"
        case .integer: return "integer"
        case .float: return "float"
        case .bool: return "boolean"
        case .array: return "array"
        case .table: return "table"
        }
    }
}

/// A value with the position (1-based line and column) where it starts in its file.
public struct ConfigNode: Equatable, Sendable {
    public var value: ConfigValue
    public var line: Int
    public var column: Int

    public init(_ value: ConfigValue, line: Int, column: Int) {
        self.value = value
        self.line = line
        self.column = column
    }
}

/// A table: keys in the order they were written, each with its value and the line of the key.
public struct ConfigTable: Equatable, Sendable {
    public private(set) var keys: [String] = []
    public private(set) var entries: [String: ConfigNode] = [:]
    /// Where each key was written (line, column).
    public private(set) var keyPositions: [String: (Int, Int)] = [:]

    public init() {}

    public subscript(key: String) -> ConfigNode? {
        get { entries[key] }
    }

    /// Sets a new key; returns false when the key already exists.
    @discardableResult
    public mutating func insert(_ key: String, _ node: ConfigNode, line: Int, column: Int) -> Bool {
        guard entries[key] == nil else { return false }
        keys.append(key)
        entries[key] = node
        keyPositions[key] = (line, column)
        return true
    }

    /// Replaces the value of an existing key (used while filling nested tables).
    mutating func update(_ key: String, _ node: ConfigNode) {
        entries[key] = node
    }

    public static func == (a: ConfigTable, b: ConfigTable) -> Bool {
        a.keys == b.keys && a.entries == b.entries
    }
}

/// Errors from reading and decoding config files; each names the file and where in it.
public enum ConfigError: Error, CustomStringConvertible, Equatable {
    case syntax(file: String, line: Int, column: Int, message: String)
    case unknownKey(file: String, key: String, line: Int)
    case typeMismatch(file: String, key: String, line: Int, expected: String, found: String)
    case missingKey(file: String, key: String, line: Int)
    case invalidValue(file: String, key: String, line: Int, message: String)
    case unreadable(file: String, message: String)
    /// A value that decoded but is out of its range, found when the whole config is checked.
    case badValue(file: String, key: String, message: String)

    public var description: String {
        switch self {
        case let .syntax(file, line, column, message):
            return "\(file):\(line):\(column): \(message)"
        case let .unknownKey(file, key, line):
            return "\(file):\(line): unknown key '\(key)'"
        case let .typeMismatch(file, key, line, expected, found):
            return "\(file):\(line): '\(key)' should be \(expected), found \(found)"
        case let .missingKey(file, key, line):
            return "\(file):\(line): missing key '\(key)'"
        case let .invalidValue(file, key, line, message):
            return "\(file):\(line): '\(key)': \(message)"
        case let .unreadable(file, message):
            return "\(file): \(message)"
        case let .badValue(file, key, message):
            return "\(file): '\(key)' \(message)"
        }
    }
}
