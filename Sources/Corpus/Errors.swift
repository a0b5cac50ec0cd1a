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
    /// `corpus add` of other text under a name already registered, without `--replace`.
    case corpusExists(name: String, path: String)
    /// A text so short that its validation split (the last 2%) is empty.
    case noValidation(corpus: String, bytes: Int)
    /// A token file encoded from other text than the corpus it names now holds.
    case staleTokens(path: String, corpus: String, recorded: String, current: String, rebuild: String)

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
        case .corpusExists(let name, let path):
            return "corpus '\(name)' is already registered (\(path)) with other text; give --replace to replace it "
                + "(its tokenizers and token files must then be rebuilt), or pick another name"
        case .noValidation(let corpus, let bytes):
            return "corpus \(corpus) has \(bytes) bytes, too few for a validation split (the last 2% of the text, "
                + "cut at a line break); give it at least a few kilobytes; nothing written"
        case .staleTokens(let path, let corpus, let recorded, let current, let rebuild):
            return "token file \(path) was encoded from corpus \(corpus) with text sha256 \(recorded.prefix(12))…, "
                + "but the corpus now holds text sha256 \(current.prefix(12))…; rebuild its tokenizer and token files "
                + "(\(rebuild))"
        }
    }

    public var errorDescription: String? { description }
}
