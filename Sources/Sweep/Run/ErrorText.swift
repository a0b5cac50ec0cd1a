// An error as one line for people: the tool's message before it exits, a failed run's stored
// message, a store's error from libpq. The one place that writes error text.
import Foundation

/// Collapses a multi-line message (libpq's "…failed: Connection refused\n\tIs the server
/// running…", an executor's error) into one line.
public func oneLine(_ message: String) -> String {
    message.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        .filter { !$0.isEmpty }.joined(separator: " ")
}

/// One line for any error: our typed errors by their description; Foundation's file errors
/// (whose default text is `Error Domain=NSCocoaErrorDomain Code=4 ...`) as "PATH: reason".
public func describeError(_ error: Error) -> String {
    let ns = error as NSError
    if ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain {
        return describeFileError(error)
    }
    return oneLine(String(describing: error))
}

/// "PATH: reason" for an error of Foundation's file functions, the reason from the system
/// (`No such file or directory`) where there is one.
public func describeFileError(_ error: Error) -> String {
    let ns = error as NSError
    let path = ns.userInfo[NSFilePathErrorKey] as? String
        ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
    var reason: String
    if ns.domain == NSPOSIXErrorDomain {
        reason = String(cString: strerror(Int32(ns.code)))
    } else if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
        reason = String(cString: strerror(Int32(underlying.code)))
    } else {
        switch ns.code {
        case CocoaError.fileReadNoSuchFile.rawValue, CocoaError.fileNoSuchFile.rawValue: reason = "no such file"
        case CocoaError.fileReadNoPermission.rawValue, CocoaError.fileWriteNoPermission.rawValue: reason = "permission denied"
        case CocoaError.fileReadInapplicableStringEncoding.rawValue, CocoaError.fileReadCorruptFile.rawValue:
            reason = "not UTF-8 text"
        case CocoaError.fileWriteFileExists.rawValue: reason = "already exists"
        case CocoaError.fileWriteOutOfSpace.rawValue: reason = "no space left on the device"
        default: reason = ns.localizedDescription
        }
    }
    reason = oneLine(reason)
    return path.map { "\($0): \(reason)" } ?? reason
}
