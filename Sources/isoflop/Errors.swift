// How the tool shows a failure: one line naming the file, key or flag and the value, then a
// non-zero exit. `ValidationError` is kept for bad combinations of flags (it adds the usage).
import ArgumentParser
import Foundation
import Study
import Sweep

/// An error shown to people as one line, without usage text.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = oneLine(description) }
    /// The one-line description of any error, Foundation's file errors included.
    init(describing error: Error) { self.init(describeError(error)) }
}

/// The error the tool exits with: argument-parser's own kinds (usage, help, exit codes) as
/// they are, a stop request as exit 130 after its line, a failed stage with its status,
/// everything else as one line.
func commandLineError(_ error: Error) -> Error {
    switch error {
    case StudyError.stopped:
        print(error)
        return ExitCode(130)
    case StudyError.stageFailed(_, let status): return ExitCode(status)
    case is CLIError, is ValidationError, is ExitCode, is CleanExit: return error
    default:
        // Argument-parser's parsing errors are not public types; they carry the usage text.
        if String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") { return error }
        return CLIError(describing: error)
    }
}

/// Refuses to write `output` when it is the file `input` (by device and inode, so links and
/// other spellings of the path count too): the read would be overwritten before it is done.
func checkDistinct(input: String, output: String, flags: (String, String) = ("--input", "--output")) throws {
    var a = stat(), b = stat()
    guard stat(input, &a) == 0, stat(output, &b) == 0 else { return }
    if a.st_dev == b.st_dev && a.st_ino == b.st_ino {
        throw CLIError("\(flags.1) \(output) is the same file as \(flags.0) \(input); writing it would destroy the input")
    }
}
