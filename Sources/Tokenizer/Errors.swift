// Typed errors of the Tokenizer target; each names the offending value and where it came from.
import Foundation

public enum TokenizerError: Error, CustomStringConvertible, LocalizedError, Equatable {
    case emptyInput(source: String)
    case vocabTooSmall(requested: Int)
    case vocabTooLarge(requested: Int)
    case notATokenizer(path: String, reason: String)
    case tokenOutOfRange(id: Int, vocabSize: Int, position: Int)
    case io(path: String, reason: String)
    /// Training ran out of pairs to merge before the vocabulary asked for.
    case vocabNotReached(source: String, requested: Int, reached: Int)

    public var description: String {
        switch self {
        case .emptyInput(let source):
            return "empty input: \(source) has no bytes to train or encode"
        case .vocabTooSmall(let v):
            return "vocab size \(v) is too small: need at least 257 (256 bytes and <|endoftext|>)"
        case .vocabTooLarge(let v):
            return "vocab size \(v) is too large: token files store uint16 ids, so at most 65536"
        case .notATokenizer(let path, let reason):
            return "\(path) is not a byte-level BPE tokenizer.json: \(reason)"
        case .tokenOutOfRange(let id, let v, let pos):
            return "token id \(id) at position \(pos) is out of range for a vocabulary of \(v)"
        case .io(let path, let reason):
            return "\(path): \(reason)"
        case .vocabNotReached(let source, let requested, let reached):
            return "\(source) is too small for a vocabulary of \(requested): training ran out of pairs to merge at "
                + "\(reached) tokens; give more text or a vocabulary of at most \(reached); nothing written"
        }
    }

    public var errorDescription: String? { description }
}
