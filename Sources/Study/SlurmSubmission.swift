// A study on a Slurm cluster: the job-array script of a sweep (tasks run `isoflop worker`) or of
// a ladder (tasks run the ladder beside each other), built in one place, its sweep planned into
// the store first so that `sweep status` follows the job from its start.
import Foundation
import Ladder
import Sweep
import Tensor

/// The job's shape: array tasks (one node each), worker processes per task, time limit, partition.
public struct ClusterShape {
    public var nodes = 1
    public var processesPerNode = 1
    /// `[D-]HH:MM:SS`; nil: twice the estimate, plus 15 minutes.
    public var time: String?
    public var partition: String?

    public init(nodes: Int = 1, processesPerNode: Int = 1, time: String? = nil, partition: String? = nil) {
        self.nodes = nodes
        self.processesPerNode = processesPerNode
        self.time = time
        self.partition = partition
    }

    /// Twice the throughput model's estimate for `runs` on this many workers, plus 15 minutes,
    /// in whole minutes. The cluster's nodes are not this machine: a rate measured here would
    /// not apply, so the config's rate or the fallback is used.
    public static func timeLimit(runs: [PlannedRun], config cfg: SweepConfig, workers: Int) -> String {
        let model = ThroughputModel(flopsPerSecond: cfg.flopsPerSecond ?? Calibration.fallbackFLOPsPerSecond,
                                    overheadPerToken: cfg.overheadPerToken)
        let seconds = estimateWallSeconds(runs.map(model.seconds), workers: workers)
        let minutes = Int((2 * seconds / 60).rounded(.up)) + 15
        return String(format: "%02d:%02d:00", minutes / 60, minutes % 60)
    }
}

/// A job ready to write: the script's content and where it goes.
public struct SlurmSubmission {
    public var job: SlurmJob
    /// The script's path, absolute.
    public var file: String

    /// The job of the sweep or ladder `name`, its paths made absolute against the current folder
    /// (the tasks start there, on other nodes), its time limit from `runs` on the job's workers
    /// unless the shape gives one; checked (`SlurmError`) before anything is written.
    public init(name: String, shape: ClusterShape, store url: String, checkpoints: String, script: String?, lease: Double,
                ladder: SlurmLadder? = nil, runs: [PlannedRun], config: SweepConfig) throws {
        let cwd = FileManager.default.currentDirectoryPath
        let absolute = { (path: String) in URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: cwd + "/")).standardizedFileURL.path }
        file = absolute(script ?? "runs/\(name)/\(name).sbatch")
        let ladder = ladder.map { SlurmLadder(config: absolute($0.config), out: absolute($0.out)) }
        job = SlurmJob(sweep: name, nodes: shape.nodes, processesPerNode: shape.processesPerNode,
                       time: shape.time ?? ClusterShape.timeLimit(runs: runs, config: config, workers: shape.nodes * shape.processesPerNode),
                       partition: shape.partition, executable: URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path,
                       workingDirectory: cwd, store: StoreURL.isSQLite(url) ? "sqlite:" + absolute(StoreURL.path(url)) : url,
                       checkpoints: checkpoints, logDirectory: (file as NSString).deletingLastPathComponent + "/slurm-logs",
                       lease: lease, ladder: ladder)
        try job.validate()
    }

    /// Writes the script (and makes its log folder); a script that holds the store's password
    /// is readable by its owner only.
    public func write() throws {
        for dir in [(file as NSString).deletingLastPathComponent, job.logDirectory] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        guard StoreURL.hasPassword(job.store) else { return try job.script().write(toFile: file, atomically: true, encoding: .utf8) }
        let temporary = file + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(job.script().utf8), attributes: [.posixPermissions: 0o600]),
              rename(temporary, file) == 0 else {
            unlink(temporary)
            throw StudyError.unwritable(path: file)
        }
    }

    /// The commands to run next, for people (the store's password hidden).
    public var nextSteps: [String] {
        let exe = shellQuote(job.executable), store = shellQuote(redactedStoreURL(job.store))
        return ["sbatch \(shellQuote(file))", "\(exe) sweep status --store \(store) --watch 30"]
            + (job.ladder.map { ["open \(shellQuote($0.out))/index.html (rewritten after every rung)"] } ?? ["\(exe) report --store \(store)"])
    }
}

/// `sweep slurm`: plans `cfg` (from `file`) into the store at `url` and writes the job-array
/// script whose tasks run `isoflop worker`; says what it did through `say`. The job is checked
/// (`SlurmError`) before anything is built, planned or written.
public func submitSweep(_ cfg: SweepConfig, file: String, store url: String, checkpoints: String?, shape: ClusterShape,
                        script: String?, lease: Double, say: @escaping (String) -> Void) throws {
    try refuseAdaptiveWithoutDriver(cfg, file: file)
    let checkpoints = try Checkpoints.folder(checkpoints, store: url)
    let plan = try Planner.plan(cfg)
    let submission = try SlurmSubmission(name: cfg.name, shape: shape, store: url, checkpoints: checkpoints,
                                         script: script, lease: lease, runs: plan.runs, config: cfg)
    if StoreURL.isSQLite(url) { say(sqliteAcrossNodesNote) }
    try prepareSweepData(cfg, progress: say)
    let sweep = try planIntoStore(cfg, RunBatches.initial(plan), url: url)
    let summary = SweepProgress(try sweep.store.runs(sweep: sweep.id))
    try submission.write()
    say(String(format: "sweep %@: %d runs planned in the store (%d done), %@ FLOPs", cfg.name, summary.total,
               summary.byStatus[.done] ?? 0, formatFLOPs(summary.totalFLOPs)))
    submission.summary(shape).forEach(say)
}

/// `ladder --slurm`: checks every rung's inputs, plans the first rung into the store (so that
/// `sweep status` follows the job from its start) and writes the job-array script whose every
/// task runs the ladder (`config`, writing to `out`) with `--wait-for-others`.
public func submitLadder(_ plan: LadderPlan, config: String, out: String, store url: String, checkpoints: String?,
                         shape: ClusterShape, script: String?, lease: Double, say: @escaping (String) -> Void) throws {
    let checkpointDir = try Checkpoints.folder(checkpoints, store: url)
    let distinct = distinctTrainings(plan.allRuns)
    let submission = try SlurmSubmission(name: plan.ladder.name, shape: shape, store: url, checkpoints: checkpointDir,
                                         script: script, lease: lease, ladder: SlurmLadder(config: config, out: out),
                                         runs: distinct, config: plan.rungs[0])
    if StoreURL.isSQLite(url) { say(sqliteAcrossNodesNote) }
    try prepareSweepData(plan.rungs[0], progress: say)
    for (cfg, rungPlan) in zip(plan.rungs, plan.plans) { try checkSweepInputs(cfg, runs: rungPlan.runs) }
    let sweep = try planIntoStore(plan.rungs[0], RunBatches.initial(plan.plans[0]), url: url)
    try Checkpoints.mark(checkpointDir, store: sweep.store)
    try submission.write()
    say("ladder \(plan.ladder.name): \(plan.rungs.count) rungs, \(plan.allRuns.count) runs, \(distinct.count) distinct trainings; "
        + "first rung planned in the store")
    submission.summary(shape).forEach(say)
}

let sqliteAcrossNodesNote = "note: an SQLite store works across nodes only on a filesystem with reliable locks; prefer postgresql://"

extension SlurmSubmission {
    /// The script written, the job's shape and time limit, and the commands to run next.
    func summary(_ shape: ClusterShape) -> [String] {
        ["wrote \(file): \(shape.nodes) task(s) × \(shape.processesPerNode) worker process(es), time limit \(job.time)", "next:"]
            + nextSteps.map { "  " + $0 }
    }
}
