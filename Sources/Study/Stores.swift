// Where a study's store and checkpoints live: the default store of a config, opening a store that
// must exist, the checkpoint folder beside an SQLite store (or named for a server store), and
// the mark that ties a checkpoint folder to one store.
import Foundation
import Sweep
#if canImport(Glibc)
import Glibc
#endif

/// The default store of a config: runs/<name>/sweep.sqlite.
public func defaultStoreURL(_ config: SweepConfig) -> String { "runs/\(config.name)/sweep.sqlite" }

/// Whether a command-line input names a run store rather than a CSV of runs.
public func looksLikeStore(_ input: String) -> Bool {
    input.hasPrefix("sqlite:") || input.hasSuffix(".sqlite") || input.contains("://")
}

/// Opens a store that must already exist: a missing SQLite file is an error, not a new store.
/// Read-only (the default) never creates, migrates or changes anything; for writing (workers,
/// `sweep resume`) an older schema is migrated.
public func openExistingStore(_ url: String, forWriting: Bool = false) throws -> RunStore {
    if StoreURL.isSQLite(url), !FileManager.default.fileExists(atPath: StoreURL.path(url)) {
        throw StudyError.noStore(path: StoreURL.path(url))
    }
    return try openRunStore(url, readOnly: !forWriting)
}

/// Opens a store to plan into, creating it (and, for SQLite, its folder) when missing. A store
/// named without a folder (`--store plain.sqlite`) lives in the current one.
public func openStoreForPlanning(_ url: String) throws -> RunStore {
    let folder = (StoreURL.path(url) as NSString).deletingLastPathComponent
    if StoreURL.isSQLite(url), !folder.isEmpty {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }
    return try openRunStore(url)
}

/// The folder that holds a store's checkpoints, checked before anything is claimed or planned.
public enum Checkpoints {
    /// `explicit` when given, else (SQLite only) `checkpoints` beside the store file. Checked
    /// writable (or creatable), so a bad folder fails once, here, with its name; created by
    /// `mark`, once the store holds the sweep, so a refused command leaves no empty folder; a
    /// folder holding another store's checkpoints is refused. Returned absolute.
    public static func folder(_ explicit: String?, store url: String) throws -> String {
        let dir: String
        if let explicit, explicit.isEmpty { throw StudyError.emptyCheckpointFlag }
        if let explicit {
            dir = explicit
        } else if StoreURL.isSQLite(url) {
            dir = ((StoreURL.path(url) as NSString).deletingLastPathComponent as NSString).appendingPathComponent("checkpoints")
        } else {
            throw StudyError.checkpointsRequired(scheme: String(url.prefix { $0 != ":" }))
        }
        // A server store is reached before the folder is made, so an unreachable one leaves no empty folder behind.
        if !StoreURL.isSQLite(url) { _ = try openRunStore(url) }
        try CheckpointDirectory.check(dir)
        let absolute = URL(fileURLWithPath: dir).standardizedFileURL.path
        try checkOwner(absolute, store: url)
        return absolute
    }

    /// The file in a checkpoint folder that names the store whose checkpoints it holds.
    static func ownerFile(_ dir: String) -> String { (dir as NSString).appendingPathComponent(CheckpointRoot.markerName) }

    /// Refuses, before anything is written to the store, a checkpoint folder that holds another
    /// store's checkpoints (`--store a.sqlite` and `--store b.sqlite` in one folder share
    /// `checkpoints/` beside them, and run ids repeat from store to store).
    static func checkOwner(_ dir: String, store url: String) throws {
        guard let data = FileManager.default.contents(atPath: ownerFile(dir)) else { return try CheckpointRoot.checkUnmarked(dir) }
        let owner = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let exists = !StoreURL.isSQLite(url) || FileManager.default.fileExists(atPath: StoreURL.path(url))
        let id = exists ? try openRunStore(url, readOnly: true).storeID() : nil
        guard id == owner else { throw StudyError.foreignCheckpoints(folder: dir, owner: owner, store: url) }
    }

    /// Marks a checkpoint folder as the store's (once the store exists and has its id).
    public static func mark(_ dir: String, store: RunStore) throws {
        try CheckpointDirectory.create(dir)
        let path = ownerFile(dir)
        guard !FileManager.default.fileExists(atPath: path), let id = try store.storeID() else { return }
        guard FileManager.default.createFile(atPath: path, contents: Data((id + "\n").utf8)) else {
            throw StudyError.unwritable(path: path)
        }
    }
}

/// A new SQLite store in a fresh temporary folder: where a dry run's pretend results go when no
/// store is named, so that they never land in the sweep's real store.
public func scratchStoreURL() throws -> String {
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("isoflop-dry-run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    return scratch.appendingPathComponent("sweep.sqlite").path
}
