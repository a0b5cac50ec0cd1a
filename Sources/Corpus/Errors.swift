// Typed errors of the Corpus target; each names the offending value and where it came from.
import Foundation

public enum CorpusError: Error, CustomStringConvertible, LocalizedError, Equatable {
    case emptyInput(source: String)
    case io(path: String, reason: String)
    case unknownCorpus(name: String, known: [String])
    case checksumMismatch(path: String, expected: String, found: String)
    /// A token file's sidecar is missing or unreadable.
    case badSidecar(path: String, reason: String)
    case badCorpusName(name: String)
    case builtInCorpus(name: String)

    public var description: String {
        switch self {
        case .emptyInput(let source):
            return "empty input: \(source) has no bytes to train or encode"
        case .io(let path, let reason):
            return "\(path): \(reason)"
        case .unknownCorpus(let name, let known):
            return "unknown corpus '\(name)' (known: \(known.joined(separator: ", ")); add one with 'isoflop corpus add'"
        case .checksumMismatch(let path, let expected, let found):
            return "\(path) has sha256 \(found), expected \(expected)"
        case .badSidecar(let path, let reason):
            return "token file \(path): \(reason)"
        case .badCorpusName(let name):
            return "corpus name '\(name)' must be letters, digits, '-' or '_'"
        case .builtInCorpus(let name):
            return "'\(name)' is a built-in corpus; pick another name"
        }
    }

    public var errorDescription: String? { description }
}
