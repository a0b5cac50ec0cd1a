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
    case unwritable(path: String)

    public var description: String {
        switch self {
        case .invalidConfig(let s): return "invalid config: \(s)"
        case .unknownKeys(let keys, let place):
            return "unknown config key\(keys.count == 1 ? "" : "s") \(keys.map { "'\($0)'" }.joined(separator: ", ")) in \(place)"
        case .modelMismatch(let s): return "model does not match the config: \(s)"
        case .diverged(let step, let loss, let reason): return "diverged at step \(step): loss \(loss) (\(reason))"
        case .checkpoint(let path, let reason): return "checkpoint \(path): \(reason)"
        case .unwritable(let path): return "cannot write \(path)"
        }
    }
}
