// Opening the text files a user names for training or encoding: regular files only (a FIFO
// blocks and cannot seek, /dev/zero never ends, and neither has a size to plan by), with the
// real reason of a failure in words beside the path.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum InputFile {
    /// A descriptor open for reading on the regular file at `path`; the caller closes it.
    public static func open(_ path: String) throws -> Int32 {
        // O_NONBLOCK: opening a FIFO would otherwise wait for a writer, forever.
        let fd = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw TokenizerError.io(path: path, reason: openFailure(path, errno)) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw TokenizerError.io(path: path, reason: reason)
        }
        let kind = st.st_mode & S_IFMT
        guard kind == S_IFREG else {
            close(fd)
            throw TokenizerError.io(path: path, reason: "\(kindName(kind)), not a regular file: only files of known size are read")
        }
        // Reads block as usual from here on.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return fd
    }

    /// The whole regular file at `path`.
    public static func read(_ path: String) throws -> [UInt8] {
        let handle = FileHandle(fileDescriptor: try open(path), closeOnDealloc: true)
        do {
            return [UInt8](try handle.readToEnd() ?? Data())
        } catch {
            throw TokenizerError.io(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
    }

    /// Why `open(path)` failed with `code`. Command-line arguments reach Swift as UTF-8, bytes
    /// that are not UTF-8 replaced by U+FFFD: such a name names another, missing, file.
    static func openFailure(_ path: String, _ code: Int32) -> String {
        if code == ENOENT, path.unicodeScalars.contains("\u{FFFD}") {
            return "no such file; its name holds bytes that are not UTF-8 (shown as \u{FFFD}), which isoflop cannot pass on: rename the file"
        }
        return code == ENOENT ? "no such file" : String(cString: strerror(code))
    }

    static func kindName(_ kind: mode_t) -> String {
        switch kind {
        case S_IFDIR: return "a folder"
        case S_IFIFO: return "a FIFO"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        default: return "a special file"
        }
    }
}
