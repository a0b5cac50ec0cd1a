// The folder of a sweep's checkpoints: checked before anything is planned or claimed, created
// only once the store has taken the sweep, so a refused command leaves no empty folder behind.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum CheckpointDirectory {
    /// Why a checkpoint folder cannot be used; `path` as given.
    public struct Unusable: Error, CustomStringConvertible, Equatable {
        public var path: String
        public var reason: String
        public var description: String { "checkpoint directory \(path) \(reason)" }
    }

    /// Throws unless `dir` is a writable folder, or is missing and could be created: its
    /// nearest existing ancestor is a folder this process may write into. Creates nothing
    /// that stays (a writable folder is proved so by a probe file, removed at once).
    public static func check(_ dir: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw Unusable(path: dir, reason: "is a file, not a folder") }
            return try probe(dir)
        }
        var ancestor = (dir as NSString).deletingLastPathComponent
        while !ancestor.isEmpty, !FileManager.default.fileExists(atPath: ancestor), ancestor != "/" {
            ancestor = (ancestor as NSString).deletingLastPathComponent
        }
        if ancestor.isEmpty { ancestor = "." }
        if !FileManager.default.fileExists(atPath: ancestor, isDirectory: &isDirectory) || !isDirectory.boolValue {
            throw Unusable(path: dir, reason: "cannot be created (\(String(cString: strerror(ENOTDIR))))")
        }
        guard access(ancestor, W_OK | X_OK) == 0 else {
            throw Unusable(path: dir, reason: "cannot be created (\(String(cString: strerror(errno))))")
        }
    }

    /// Creates `dir` and its missing parents, and proves it writable.
    public static func create(_ dir: String) throws {
        var path = dir.hasPrefix("/") ? "" : "."
        for part in dir.split(separator: "/") {
            path += "/" + part
            if mkdir(path, 0o755) != 0 && errno != EEXIST {
                throw Unusable(path: dir, reason: "cannot be created (\(String(cString: strerror(errno))))")
            }
        }
        try probe(dir)
    }

    /// Creates and removes a file in `dir`: permission bits do not tell about read-only mounts.
    static func probe(_ dir: String) throws {
        let file = (dir as NSString).appendingPathComponent(".isoflop-write-test-\(getpid())")
        let fd = open(file, O_CREAT | O_WRONLY | O_EXCL, 0o600)
        guard fd >= 0 else { throw Unusable(path: dir, reason: "is not writable (\(String(cString: strerror(errno))))") }
        close(fd)
        unlink(file)
    }
}
