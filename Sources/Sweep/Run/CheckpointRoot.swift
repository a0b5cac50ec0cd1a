// The folder that holds a store's checkpoints: what a store puts in it, so that a folder holding
// anything else (a user's files) is refused rather than taken over; and the watch that ends a
// worker whose parent died while it cannot stop between steps.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum CheckpointRoot {
    /// The file in a checkpoint folder that names the store whose checkpoints it holds.
    public static let markerName = ".isoflop-store"

    /// Entries of `dir` (paths relative to it, in name order) that no run store makes: a store
    /// writes only its marker, the probe of a writability check, and per run `run-<id>` with
    /// its swap-in `.new`, its `.owner` file and a branch's `.start` (and its `.new`), each
    /// folder holding checkpoint files alone. At most `limit` are returned.
    public static func foreignEntries(in dir: String, limit: Int = 3) -> [String] {
        let fm = FileManager.default
        var found: [String] = []
        for name in ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).sorted() where found.count < limit {
            if name == markerName || name.hasPrefix(".isoflop-write-test-") || isAtomicWriteTemporary(name) { continue }
            var isFolder: ObjCBool = false
            let path = (dir as NSString).appendingPathComponent(name)
            _ = fm.fileExists(atPath: path, isDirectory: &isFolder)
            guard let suffix = runSuffix(name), isFolder.boolValue == (suffix != ".owner") else {
                found.append(name)
                continue
            }
            guard isFolder.boolValue else { continue }
            for inner in ((try? fm.contentsOfDirectory(atPath: path)) ?? []).sorted() where !isCheckpointFile(inner) {
                found.append(name + "/" + inner)
                if found.count == limit { break }
            }
        }
        return found
    }

    /// Refuses a folder without the store marker that holds anything a store did not make.
    public static func checkUnmarked(_ dir: String) throws {
        let foreign = foreignEntries(in: dir)
        guard foreign.isEmpty else { throw WorkerError.foreignFiles(path: dir, entries: foreign) }
    }

    /// What follows `run-<digits>` in a name a store makes, or nil for any other name.
    static func runSuffix(_ name: String) -> String? {
        guard name.hasPrefix("run-") else { return nil }
        let rest = name.dropFirst(4)
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty else { return nil }
        let suffix = String(rest.dropFirst(digits.count))
        return ["", ".new", ".owner", ".start", ".start.new"].contains(suffix) ? suffix : nil
    }

    /// Foundation's `createFile` writes `.dat.nosync<pid>.<random>` beside the file it makes
    /// and renames it into place (the owner files, the swap's marker): another worker starting
    /// meanwhile sees it.
    static func isAtomicWriteTemporary(_ name: String) -> Bool { name.hasPrefix(".dat.nosync") }

    /// The files of a checkpoint (`Trainer.saveCheckpoint`, the dry run's, the swap's marker),
    /// or one of their temporary files (`<name>.tmp-<pid>`, Foundation's).
    static func isCheckpointFile(_ name: String) -> Bool {
        if isAtomicWriteTemporary(name) { return true }
        let base = name.range(of: ".tmp-").map { String(name[..<$0.lowerBound]) } ?? name
        return ["model.safetensors", "optimizer.safetensors", "config.json", "state.json", "rows-stored"].contains(base)
    }
}

/// Ends this process when `isOrphaned` has said true for `grace` seconds: a worker normally
/// notices its parent's death before its next step and checkpoints, but inside a long
/// evaluation it cannot; ended there, it leaves its last checkpoint and its run for the next
/// `sweep run` to resume, as a kill -9 would.
public final class OrphanWatch: @unchecked Sendable {
    let isOrphaned: () -> Bool
    let grace: Double
    let poll: Double
    let onAbandon: () -> Void

    public init(isOrphaned: @escaping () -> Bool, grace: Double = 5, poll: Double = 0.5,
                onAbandon: @escaping () -> Void = { _exit(130) }) {
        self.isOrphaned = isOrphaned
        self.grace = grace
        self.poll = poll
        self.onAbandon = onAbandon
    }

    /// Starts watching on a thread of its own.
    public func start() {
        Thread.detachNewThread { [self] in
            var since: Date?
            while true {
                Thread.sleep(forTimeInterval: poll)
                guard isOrphaned() else {
                    since = nil
                    continue
                }
                let first = since ?? Date()
                since = first
                if Date().timeIntervalSince(first) >= grace { return onAbandon() }
            }
        }
    }
}
