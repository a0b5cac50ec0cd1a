// Typed errors of the Training target; each message names what went wrong and where.

/// Errors raised while configuring, running, saving or resuming a training run.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// A config value out of range; the message names the field.
    case invalidConfig(String)
    /// A config object held keys nobody reads (a typo would otherwise be silently ignored).
    case unknownKeys([String], in: String)
    /// The model handed to the trainer does not have the shape or batch the config says.
    case modelMismatch(String)
    /// The loss became NaN/Inf or exploded; the run stops without applying that update.
    case diverged(step: Int, loss: Double, reason: String)
    /// A checkpoint could not be written or read.
    case checkpoint(path: String, reason: String)

    public var description: String {
        switch self {
        case .invalidConfig(let s): return "invalid config: \(s)"
        case .unknownKeys(let keys, let place):
            return "unknown config key\(keys.count == 1 ? "" : "s") \(keys.map { "'\($0)'" }.joined(separator: ", ")) in \(place)"
        case .modelMismatch(let s): return "model does not match the config: \(s)"
        case .diverged(let step, let loss, let reason): return "diverged at step \(step): loss \(loss) (\(reason))"
        case .checkpoint(let path, let reason): return "checkpoint \(path): \(reason)"
        }
    }
}

/// Errors raised while opening or sampling a token file.
public enum TokenFileError: Error, CustomStringConvertible, Equatable {
    case missing(path: String)
    case unreadable(path: String, reason: String)
    case oddSize(path: String, bytes: Int)
    case empty(path: String)
    /// Windows need `context + 1` tokens (inputs plus the shifted targets).
    case contextTooLong(path: String, tokens: Int, context: Int)
    case tokenOutOfRange(path: String, token: Int, vocabSize: Int)

    public var description: String {
        switch self {
        case .missing(let p): return "token file \(p) does not exist"
        case .unreadable(let p, let r): return "token file \(p) cannot be read: \(r)"
        case .oddSize(let p, let b): return "token file \(p) has an odd size (\(b) bytes); uint16 tokens need an even size"
        case .empty(let p): return "token file \(p) is empty"
        case .contextTooLong(let p, let n, let t):
            return "context \(t) is too long for token file \(p): it holds \(n) tokens, a window needs \(t + 1)"
        case .tokenOutOfRange(let p, let tok, let v):
            return "token file \(p) holds token id \(tok), outside the vocabulary of \(v)"
        }
    }
}
