// Workers: claim runs from the store until none are left, hand each to a RunExecutor (the
// trainer), log its metrics in batches, renew the lease, and record how the run ended, and how
// the shorter runs read from it (`PlannedRun.sharedFrom`) ended.
import Foundation
import Training

/// Where an executor logs its steps. `flush()` must be called at each checkpoint so that the
/// stored metrics never lag the checkpoint a resumed run starts from.
public protocol MetricSink: AnyObject {
    func log(_ row: MetricRow) throws
    func flush() throws
    /// Steps after which the executor must evaluate and hand the result so far to `record`:
    /// the last steps of the runs read from this one. None unless the sink says so.
    var resultSteps: Set<Int> { get }
    /// Takes the result (`.done`) that a run ending after `step` has: its final train loss
    /// as the executor computes one, the evaluation after `step`, the rate so far.
    func record(_ outcome: RunOutcome, after step: Int) throws
    /// Folders into which the executor writes a lasting checkpoint after each of these steps:
    /// the starts of the runs that branch from this one (a wsd trunk's). None unless the sink
    /// says so.
    var branchStarts: [Int: [String]] { get }
    /// Told once the branch checkpoints after `step` are written.
    func branchReady(step: Int) throws
    /// The rows stored for this run up to `step`, in step order (a resumed run or a branch
    /// picks up its last train losses from them). None unless the sink keeps them.
    func history(through step: Int) throws -> [MetricRow]
}

extension MetricSink {
    public var resultSteps: Set<Int> { [] }
    public func record(_ outcome: RunOutcome, after step: Int) throws {}
    public var branchStarts: [Int: [String]] { [:] }
    public func branchReady(step: Int) throws {}
    public func history(through step: Int) throws -> [MetricRow] { [] }
}

/// Where a branch's starting checkpoint is written, beside the branch's own checkpoint folder
/// `checkpointDirectory` (which checkpoints replace as a whole).
public func branchStartDirectory(_ checkpointDirectory: String) -> String { checkpointDirectory + ".start" }

extension RunHooks {
    /// Writes the branch checkpoints `log` asks for (a wsd trunk's) and tells it when they are.
    public mutating func writeBranchStarts(for log: MetricSink) {
        branchCheckpoints = log.branchStarts.mapValues { $0.map(CheckpointFolder.init) }
        onBranchCheckpoint = { try log.branchReady(step: $0) }
    }
}

extension PlannedRun {
    /// Where this run starts when its own checkpoint folder `dir` holds no checkpoint yet: its
    /// trunk's checkpoint for it when it is a branch, else nowhere (step 0).
    public func startingCheckpoint(_ dir: String) -> CheckpointFolder? {
        branchOf == nil ? nil : CheckpointFolder(branchStartDirectory(dir))
    }
}

/// Carries out one planned run: TrainerExecutor drives the real Trainer, the dry run and the
/// tests use stand-ins. Contract: resume from the newest checkpoint in `checkpointDirectory` if
/// there is one; log every step (or every few) to `log`, calling `log.flush()` after each
/// checkpoint; evaluate after every step of `log.resultSteps` and pass the result so far to
/// `log.record` after logging that step; poll `shouldStop` and, when it turns true, checkpoint
/// and return `.stopped`. Errors thrown by `log` (e.g. `StoreError.notOwner` when the lease was
/// lost) must be rethrown, not swallowed.
public protocol RunExecutor {
    func execute(_ run: PlannedRun, checkpointDirectory: String, log: MetricSink,
                 shouldStop: () -> Bool) throws -> RunOutcome
}

/// Buffers metric rows and writes them in one transaction every `maxRows` rows or
/// `maxSeconds` seconds, renewing the run's lease at each write.
public final class BufferedMetricSink: MetricSink {
    let store: RunStore
    let run: Int64
    let worker: String
    let lease: Double
    let maxRows: Int
    let maxSeconds: Double
    var buffer: [MetricRow] = []
    var lastFlush = Date()
    /// Seconds spent writing (for the logging-overhead figure).
    public private(set) var secondsWriting = 0.0
    public private(set) var rowsWritten = 0
    /// The runs read from this one, claimed with it (`RunStore.claimSharedRuns`), ended ones too.
    public var shared: [RunRecord] = [] {
        didSet { resultSteps = Set(shared.map(\.plan.steps)) }
    }
    public private(set) var resultSteps: Set<Int> = []
    /// Runs of `shared` this sink has recorded as done.
    public private(set) var recorded: Set<Int64> = []
    /// This run, when it is a wsd trunk with branches waiting for their starts.
    public var trunk: RunRecord?
    public var branchStarts: [Int: [String]] = [:]
    let began = Date()

    public init(store: RunStore, run: Int64, worker: String, lease: Double, maxRows: Int = 200, maxSeconds: Double = 5) {
        self.store = store
        self.run = run
        self.worker = worker
        self.lease = lease
        self.maxRows = maxRows
        self.maxSeconds = maxSeconds
        buffer.reserveCapacity(maxRows)
    }

    /// Buffers a row; its `run` field is set to this sink's run.
    public func log(_ row: MetricRow) throws {
        var row = row
        row.run = run
        buffer.append(row)
        if buffer.count >= maxRows || Date().timeIntervalSince(lastFlush) >= maxSeconds { try flush() }
    }

    public func flush() throws {
        let start = Date()
        // Renew first: a worker whose run was taken over must stop rather than write.
        try store.renewLease(run: run, worker: worker, lease: lease)
        try store.appendMetrics(buffer)
        rowsWritten += buffer.count
        buffer.removeAll(keepingCapacity: true)
        lastFlush = Date()
        secondsWriting += lastFlush.timeIntervalSince(start)
    }

    public func branchReady(step: Int) throws {
        guard let trunk else { return }
        try store.markBranchesReady(of: trunk, step: step)
    }

    public func history(through step: Int) throws -> [MetricRow] {
        try flush()
        return try store.metrics(run: run).filter { $0.step <= step }
    }

    /// Records the shared runs that end after `step` as done with `outcome`, with this run's
    /// metric rows up to `step` as theirs, each evaluation kept only where a run of their own
    /// would have evaluated (every `evalEvery` steps and after its last).
    public func record(_ outcome: RunOutcome, after step: Int) throws {
        let due = unrecorded.filter { $0.plan.steps == step }
        guard !due.isEmpty else { return }
        try flush()
        let rows = try store.metrics(run: run).filter { $0.step <= step }
        for member in due {
            let own = RunHooks(evalEvery: member.plan.evalEvery)
            try store.appendMetrics(rows.map {
                var r = $0
                r.run = member.id
                if !own.evaluates(after: r.step, of: member.plan.steps) { r.evalLoss = nil }
                return r
            })
            try store.finishRun(member.id, worker: worker, outcome: outcome, wallSeconds: Date().timeIntervalSince(began))
            recorded.insert(member.id)
        }
    }

    /// Shared runs neither ended before the claim nor recorded since.
    public var unrecorded: [RunRecord] {
        shared.filter { ![.done, .diverged, .failed].contains($0.status) && !recorded.contains($0.id) }
    }

    /// Ends the shared runs left unrecorded when this run ended with `outcome`: a run that
    /// diverged at step s diverges every longer run, a stopped one stops them (back to
    /// planned); one left by a finished run is a failure of the executor.
    func endUnrecorded(_ outcome: RunOutcome, key: String) throws {
        for member in unrecorded {
            let passes: Bool
            switch outcome {
            case .stopped: passes = true
            case .diverged(let step, _): passes = step <= member.plan.steps
            case .done: passes = false
            }
            if passes {
                try store.finishRun(member.id, worker: worker, outcome: outcome, wallSeconds: Date().timeIntervalSince(began))
            } else {
                try store.failRun(member.id, worker: worker,
                                  message: "read from \(key), which ended without recording its step \(member.plan.steps)")
            }
        }
    }

    /// Fails the shared runs left unrecorded when this run failed.
    func failUnrecorded(key: String, message: String) throws {
        for member in unrecorded { try store.failRun(member.id, worker: worker, message: "read from \(key), which failed: \(message)") }
    }
}

public enum WorkerError: Error, CustomStringConvertible, Equatable {
    /// A run's checkpoint folder was written for another store (two stores share one folder).
    case foreignCheckpoint(path: String, owner: String, wanted: String)
    /// A checkpoint folder without a store's marker holds `entries`, which no store made.
    case foreignFiles(path: String, entries: [String])

    public var description: String {
        switch self {
        case let .foreignCheckpoint(path, owner, wanted):
            return owner == "unwritable" ? "cannot write \(path) (for \(wanted))"
                : "checkpoint \(path) belongs to \(owner), not \(wanted): give each store its own --checkpoints folder"
        case let .foreignFiles(path, entries):
            return "checkpoint folder \(path) holds \(entries.joined(separator: ", ")), which no run store made (it has no \(CheckpointRoot.markerName)); "
                + "nothing was changed: give the checkpoints an empty or new folder"
        }
    }
}

/// What one worker did.
public struct WorkerReport: Sendable {
    public var done = 0
    public var diverged = 0
    public var failed = 0
    public var stopped = 0
    /// Results recorded from shared runs (not counted in `done`).
    public var shared = 0
    public var secondsWriting = 0.0
    public var seconds = 0.0
    public init() {}
}

public struct Worker {
    public var store: RunStore
    public var executor: RunExecutor
    public var name: String
    /// Folder that holds one checkpoint folder per run (`run-<id>`).
    public var checkpointRoot: String
    public var sweep: Int64?
    public var lease: Double
    public var host: String
    public var pid: Int
    public var maxRows: Int = 200
    /// Metrics are written (and the lease renewed) at least this often; keep it well under `lease`.
    public var maxSeconds: Double = 5
    /// When nothing is claimable but other workers still hold runs, keep polling (every
    /// `pollSeconds`) instead of leaving: a run whose worker dies is then taken over when its
    /// lease runs out rather than left for the next start. For workers on many machines.
    public var waitForLeases = false
    public var pollSeconds: Double = 5
    /// How often a worker with nothing to claim but branches waiting for their trunk's
    /// checkpoints looks again (it always waits for those, so the core takes them when ready).
    public var branchPollSeconds: Double = 0.5

    public init(store: RunStore, executor: RunExecutor, name: String, checkpointRoot: String, sweep: Int64? = nil,
                lease: Double = 120) {
        self.store = store
        self.executor = executor
        self.name = name
        self.checkpointRoot = checkpointRoot
        self.sweep = sweep
        self.lease = lease
        host = ProcessInfo.processInfo.hostName
        pid = Int(ProcessInfo.processInfo.processIdentifier)
    }

    public func checkpointDirectory(run: Int64) -> String {
        (checkpointRoot as NSString).appendingPathComponent("run-\(run)")
    }

    /// Checkpoint folders are named by run id, which another store reuses: a file beside each
    /// (`run-<id>.owner`, outside the folder, which checkpoints replace as a whole) records the
    /// store and run it belongs to, and a folder written for another store is refused rather
    /// than resumed or overwritten.
    func claimCheckpointDirectory(run: Int64, storeID: String?) throws {
        guard let storeID else { return }
        let path = checkpointDirectory(run: run) + ".owner"
        let owner = "store \(storeID) run \(run)"
        if let data = FileManager.default.contents(atPath: path) {
            let found = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard found == owner else {
                throw WorkerError.foreignCheckpoint(path: checkpointDirectory(run: run), owner: found, wanted: owner)
            }
        } else if (try? FileManager.default.createDirectory(atPath: checkpointRoot, withIntermediateDirectories: true)) == nil
                    || !FileManager.default.createFile(atPath: path, contents: Data((owner + "\n").utf8)) {
            throw WorkerError.foreignCheckpoint(path: path, owner: "unwritable", wanted: owner)
        }
    }

    /// Claims and executes runs until none is left or `shouldStop` turns true. A diverged or
    /// failed run is recorded and the worker goes on to the next.
    public func runUntilDone(shouldStop: @escaping () -> Bool = { false },
                             onClaim: (RunRecord) -> Void = { _ in }) throws -> WorkerReport {
        var report = WorkerReport()
        let began = Date()
        let storeID = try store.storeID()
        while !shouldStop() {
            guard let run = try store.claimNextRun(sweep: sweep, worker: name, host: host, pid: pid, lease: lease) else {
                if try branchesWaiting() {
                    Thread.sleep(forTimeInterval: branchPollSeconds)
                    continue
                }
                guard waitForLeases, try runsHeldByOthers() else { break }
                Thread.sleep(forTimeInterval: pollSeconds)
                continue
            }
            onClaim(run)
            let dir = checkpointDirectory(run: run.id)
            let sink = BufferedMetricSink(store: store, run: run.id, worker: name, lease: lease,
                                          maxRows: maxRows, maxSeconds: maxSeconds)
            let start = Date()
            do {
                try claimCheckpointDirectory(run: run.id, storeID: storeID)
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                sink.shared = try store.claimSharedRuns(of: run, worker: name, host: host, pid: pid)
                try prepareBranches(run, sink: sink)
                let outcome = try executor.execute(run.plan, checkpointDirectory: dir, log: sink,
                                                   shouldStop: shouldStop)
                try sink.flush()
                // The shared runs and waiting branches end first: a kill before the run's own
                // end leaves it to resume.
                try sink.endUnrecorded(outcome, key: run.plan.key)
                if case .done = outcome {
                    _ = try store.endWaitingBranches(of: run, outcome: nil,
                                                     message: "branched from \(run.plan.key), which ended without writing its checkpoint")
                } else {
                    _ = try store.endWaitingBranches(of: run, outcome: outcome, message: "")
                }
                try store.finishRun(run.id, worker: name, outcome: outcome, wallSeconds: Date().timeIntervalSince(start))
                switch outcome {
                case .done: report.done += 1
                case .diverged: report.diverged += 1
                case .stopped: report.stopped += 1
                }
            } catch let e as StoreError {
                // Lost the lease: another worker owns the run now; leave it to them.
                if case .notOwner = e { continue }
                throw e
            } catch {
                let message = describeError(error)
                try sink.failUnrecorded(key: run.plan.key, message: message)
                _ = try store.endWaitingBranches(of: run, outcome: nil, message: "branched from \(run.plan.key), which failed: \(message)")
                try store.failRun(run.id, worker: name, message: message)
                report.failed += 1
            }
            report.shared += sink.recorded.count
            report.secondsWriting += sink.secondsWriting
        }
        report.seconds = Date().timeIntervalSince(began)
        return report
    }

    /// A trunk gets the folders of its branches' starts, and marks ready those already written
    /// (a kill between writing one and marking it); a branch gets its trunk's rows up to its
    /// start, which its training continues.
    func prepareBranches(_ run: RunRecord, sink: BufferedMetricSink) throws {
        if run.plan.branchOf != nil { try store.copyTrunkRows(into: run) }
        var starts: [Int: [String]] = [:]
        for b in try store.branches(of: run) where b.status == .planned && !b.branchReady {
            guard let step = b.branchStep else { continue }
            let folder = CheckpointFolder(branchStartDirectory(checkpointDirectory(run: b.id)))
            try folder.recover()
            if folder.hasCheckpoint {
                try store.markBranchesReady(of: run, step: step)
            } else {
                starts[step, default: []].append(folder.path)
            }
        }
        sink.trunk = starts.isEmpty ? nil : run
        sink.branchStarts = starts
    }

    /// Whether a branch still waits for its trunk's checkpoint (the trunk is planned or
    /// running, so it will be written): the worker then waits too, rather than leave a core idle.
    func branchesWaiting() throws -> Bool {
        let sweeps = try sweep.map { [$0] } ?? store.sweepNames().compactMap { try store.sweepID(named: $0) }
        for id in sweeps {
            let runs = try store.runs(sweep: id)
            let live = Set(runs.filter { $0.status == .planned || $0.status == .running }.map(\.plan.key))
            if runs.contains(where: { $0.status == .planned && !$0.branchReady && $0.branchOf.map(live.contains) == true }) {
                return true
            }
        }
        return false
    }

    /// Whether any run this worker could take is still running under another worker's lease.
    func runsHeldByOthers() throws -> Bool {
        let sweeps = try sweep.map { [$0] } ?? store.sweepNames().compactMap { try store.sweepID(named: $0) }
        for id in sweeps where try store.runs(sweep: id).contains(where: { $0.status == .running }) { return true }
        return false
    }
}
