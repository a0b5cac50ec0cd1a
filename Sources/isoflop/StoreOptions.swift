// What every store-reading command shares: the `--store URL` option (with `--db` kept as a
// hidden alias), the shared checkpoint folder and its checks, and spawning worker processes.
import ArgumentParser
import Foundation
import Sweep
#if canImport(Glibc)
import Glibc
#endif

/// `--store URL`, or the older `--db`; commands that took the store as a positional argument
/// still accept it there.
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("store"),
            help: ArgumentHelp("Run store: sqlite:PATH, a plain path, or postgresql://user@host:port/db.", valueName: "url"))
    var url: String?

    @Option(name: .customLong("db"), help: .hidden) var db: String?

    /// The store named by `--store`, `--db` or the positional argument, or nil when none is.
    func resolved(positional: String? = nil) throws -> String? {
        let given = [url, db, positional].compactMap { $0 }
        guard let first = given.first else { return nil }
        if given.contains(where: { $0 != first }) {
            throw ValidationError("two different stores given (\(given.joined(separator: ", "))); name one with --store")
        }
        return first
    }

    /// Like `resolved`, but a store is required.
    func required(positional: String? = nil) throws -> String {
        guard let url = try resolved(positional: positional) else { throw ValidationError("name the run store with --store URL") }
        return url
    }
}

/// Whether a store URL names an SQLite file (`sqlite:PATH` or a plain path).
func isSQLiteStore(_ url: String) -> Bool { url.hasPrefix("sqlite:") || !url.contains("://") }

/// Whether a command-line input names a run store rather than a CSV of runs.
func looksLikeStore(_ input: String) -> Bool {
    input.hasPrefix("sqlite:") || input.hasSuffix(".sqlite") || input.contains("://")
}

/// Opens a store that must already exist, for reading only: a missing SQLite file is an
/// error, not a new store, and nothing in the database is created or changed.
func openExistingStore(_ url: String) throws -> RunStore {
    if isSQLiteStore(url), !FileManager.default.fileExists(atPath: storePath(url)) {
        throw CLIError("no run store at \(storePath(url))")
    }
    return try openRunStore(url, readOnly: true)
}

/// Opens a store that must already exist, to train its runs (workers, `sweep resume`).
func openExistingStoreForWriting(_ url: String) throws -> RunStore {
    if isSQLiteStore(url), !FileManager.default.fileExists(atPath: storePath(url)) {
        throw CLIError("no run store at \(storePath(url))")
    }
    return try openRunStore(url)
}

/// The folder that holds the runs' checkpoints: `--checkpoints` when given, else (SQLite only)
/// `checkpoints` beside the store file. Checked writable (or creatable) before anything is
/// claimed, so a bad folder fails once, here, with its name; created by `markCheckpointOwner`,
/// once the store holds the sweep. Returned absolute.
func checkpointFolder(_ explicit: String?, store url: String) throws -> String {
    let dir: String
    if let explicit, explicit.isEmpty { throw CLIError("--checkpoints must name a folder, not an empty string") }
    if let explicit {
        dir = explicit
    } else if isSQLiteStore(url) {
        dir = checkpointRoot(storePath: storePath(url))
    } else {
        throw CLIError("--checkpoints DIR is required with a \(url.prefix { $0 != ":" }) store: a folder every worker's machine sees")
    }
    // A server store is reached before the folder is made, so an unreachable one leaves no empty folder behind.
    if !isSQLiteStore(url) { _ = try openRunStore(url) }
    try CheckpointDirectory.check(dir)
    return URL(fileURLWithPath: dir).standardizedFileURL.path
}

/// The file in a checkpoint folder that names the store whose checkpoints it holds.
func checkpointOwnerFile(_ dir: String) -> String { (dir as NSString).appendingPathComponent(CheckpointRoot.markerName) }

/// Refuses, before anything is written to the store, a checkpoint folder that holds another
/// store's checkpoints (`--store a.sqlite` and `--store b.sqlite` in one folder share
/// `checkpoints/` beside them, and run ids repeat from store to store).
func checkCheckpointOwner(_ dir: String, store url: String) throws {
    guard let data = FileManager.default.contents(atPath: checkpointOwnerFile(dir)) else { return try CheckpointRoot.checkUnmarked(dir) }
    let owner = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    let exists = !isSQLiteStore(url) || FileManager.default.fileExists(atPath: storePath(url))
    let id = exists ? try openRunStore(url, readOnly: true).storeID() : nil
    guard id == owner else {
        throw CLIError("checkpoint folder \(dir) holds the checkpoints of another run store (id \(owner)), not of \(url); "
            + "give this store its own --checkpoints folder")
    }
}

/// Marks a checkpoint folder as the store's (once the store exists and has its id).
func markCheckpointOwner(_ dir: String, store: RunStore) throws {
    try CheckpointDirectory.create(dir)
    let path = checkpointOwnerFile(dir)
    guard !FileManager.default.fileExists(atPath: path), let id = try store.storeID() else { return }
    guard FileManager.default.createFile(atPath: path, contents: Data((id + "\n").utf8)) else {
        throw CLIError("cannot write \(path)")
    }
}

/// Worker processes one machine may start: enough to oversubscribe its cores, never enough
/// to exhaust its process table.
var maxLocalWorkers: Int { 4 * ProcessInfo.processInfo.activeProcessorCount }

func checkWorkerCount(_ n: Int, flag: String) throws {
    guard n >= 1, n <= maxLocalWorkers else {
        throw ValidationError("\(flag) \(n) must be in 1...\(maxLocalWorkers) (4 × this machine's \(ProcessInfo.processInfo.activeProcessorCount) CPUs)")
    }
}

/// A lease must be positive and finite: a worker renews it every third of its length.
func checkLease(_ lease: Double) throws {
    guard lease.isFinite, lease >= 1, lease <= 86_400 else {
        throw ValidationError("--lease \(lease) must be a number of seconds in 1...86400")
    }
}

/// How to start the hidden per-process `sweep worker` entry point.
struct WorkerLaunch {
    var store: String
    var checkpoints: String
    var sweep: String?
    var lease: Double
    /// Keep polling while other workers hold runs, to take over those whose lease runs out.
    var waitForLeases = false
    /// Each worker prints what it did and its logging share to standard error.
    var report = false
    /// Dry run: speedup over the throughput model, and the model's two constants.
    var dryRun: (speedup: Double, flopsPerSecond: Double, overheadPerToken: Double)?

    var arguments: [String] {
        var args = ["sweep", "worker", "--store", store, "--checkpoints", checkpoints, "--lease", "\(lease)",
                    "--parent", "\(getpid())"]
        if let sweep { args += ["--sweep", sweep] }
        if waitForLeases { args.append("--wait") }
        if report { args.append("--report") }
        if let dryRun {
            args += ["--dry-run", "\(dryRun.speedup)", "--flops-per-second", "\(dryRun.flopsPerSecond)",
                     "--overhead-per-token", "\(dryRun.overheadPerToken)"]
        }
        return args
    }
}

/// Starts `count` worker processes of this same program, each with one BLAS thread.
func spawnWorkers(_ count: Int, _ launch: WorkerLaunch) throws -> [Process] {
    let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    var env = ProcessInfo.processInfo.environment
    env["OPENBLAS_NUM_THREADS"] = "1"
    var children: [Process] = []
    for _ in 0..<count {
        // A stop request while starting many workers stops the starting too.
        if stopRequested { break }
        let p = Process()
        p.executableURL = exe
        p.arguments = launch.arguments
        p.environment = env
        try p.run()
        children.append(p)
    }
    return children
}

/// Waits for the workers, calling `tick` every half second and passing a stop request
/// (SIGINT/SIGTERM of this process alone) on to them. Returns how many exited non-zero.
func superviseWorkers(_ children: [Process], tick: () throws -> Void) rethrows -> Int {
    var forwarded = false
    while children.contains(where: { $0.isRunning }) {
        if stopRequested && !forwarded {
            // The terminal already signalled the whole group; this covers a kill of the parent alone.
            for c in children where c.isRunning { kill(c.processIdentifier, SIGINT) }
            forwarded = true
        }
        try tick()
        Thread.sleep(forTimeInterval: 0.5)
    }
    return children.filter { $0.terminationStatus != 0 }.count
}
