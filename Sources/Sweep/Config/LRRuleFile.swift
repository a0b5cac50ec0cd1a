// Puts a fitted learning-rate rule into a TOML sweep config on disk when the fit ends: the file
// is read again then (the user may have edited it while the pilot ran), only the [lr] table's
// three values change, and the write goes through a symbolic link to its target, keeping the
// target's mode.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum LRRuleFile {
    /// Writes `intercept`, `width` and `steps` into the `[lr]` table of the config at `path` as
    /// it is now. `original` is the config's text when the fit began: if its `[lr]` table is no
    /// longer the file's, someone changed the rule meanwhile and nothing is written. The new
    /// text must decode and validate, and differ from the file's config in the rule alone,
    /// before it replaces the file (atomically, by a rename in the target's folder).
    public static func write(intercept: Double, width: Double, steps: Double, to path: String, startedFrom original: String) throws {
        let target = try resolvedTarget(path)
        let current = try readText(target, file: path)
        guard LRRuleWriter.lrTable(in: current) == LRRuleWriter.lrTable(in: original) else {
            throw ConfigError.badValue(file: path, key: "lr", message: String(
                format: "table changed while the pilot ran; nothing written (the fitted rule: intercept = %.3f, width = %.3f, steps = %.3f)",
                intercept, width, steps))
        }
        let text = try LRRuleWriter.writeChecked(intercept: intercept, width: width, steps: steps, into: current, file: path)
        try ConfigDecoder.decode(SweepConfig.self, fromTOML: text, file: path).validate(file: path)
        try replaceKeepingMode(target, with: Data(text.utf8), file: path)
    }

    /// The file a path names once every symbolic link on the way is followed.
    static func resolvedTarget(_ path: String) throws -> String {
        guard let resolved = realpath(path, nil) else {
            throw ConfigError.unreadable(file: path, message: "cannot resolve the path: \(String(cString: strerror(errno)))")
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func readText(_ target: String, file: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: target), let text = String(data: data, encoding: .utf8) else {
            throw ConfigError.unreadable(file: file, message: "cannot read the config again as UTF-8 text; nothing written")
        }
        return text
    }

    /// Replaces `target` by `data` through a temporary file beside it (so a crash leaves the old
    /// or the new file, never half of one), with the old file's permission bits and, where this
    /// process may set them, its owner and group.
    static func replaceKeepingMode(_ target: String, with data: Data, file: String) throws {
        var st = stat()
        guard stat(target, &st) == 0 else {
            throw ConfigError.unreadable(file: file, message: "cannot stat \(target): \(String(cString: strerror(errno)))")
        }
        let folder = (target as NSString).deletingLastPathComponent
        let temporary = (folder as NSString).appendingPathComponent(".\((target as NSString).lastPathComponent).isoflop-\(getpid()).tmp")
        func fail(_ what: String) -> ConfigError {
            .unreadable(file: file, message: "cannot write \(what): \(String(cString: strerror(errno))); the config is unchanged")
        }
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw fail(temporary) }
        var written = false
        defer { if !written { unlink(temporary) } }
        let ok = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 { if errno == EINTR { continue }; return false }
                offset += n
            }
            return true
        }
        // The owner only where allowed (root, or the same user); the mode always.
        _ = fchown(fd, st.st_uid, st.st_gid)
        guard ok, fchmod(fd, st.st_mode & 0o7777) == 0, fsync(fd) == 0 else {
            let error = fail(temporary)
            close(fd)
            throw error
        }
        guard close(fd) == 0 else { throw fail(temporary) }
        guard rename(temporary, target) == 0 else { throw fail(target) }
        written = true
    }
}
