// The one training loop: steps, evaluations (every k steps, at given steps and at the end),
// checkpoints swapped in atomically, and stopping. `isoflop train`, the sweep's executor,
// the horizon experiment and the dry run are adapters that fill in its hooks.

import Foundation

/// What the loop drives: `Trainer`, or a stand-in that pretends to train (the sweep's dry run).
public protocol TrainingRun: AnyObject {
    /// Steps completed.
    var step: Int { get }
    /// Steps of the whole run.
    var totalSteps: Int { get }
    /// One optimizer step; throws `TrainingError.diverged` when the run blew up.
    func trainStep() throws -> StepResult
    /// Mean held-out loss (nats).
    func evaluate() -> Double
    /// Writes everything a resume needs into `dir`.
    func saveCheckpoint(to dir: String) throws
}

extension TrainingRun {
    public var isFinished: Bool { step >= totalSteps }
}

/// One step as the loop reports it.
public struct StepReport {
    public var result: StepResult
    /// The evaluation loss when the loop evaluated after this step.
    public var evalLoss: Double?
    /// Wall seconds of the optimizer step alone (evaluation and checkpoints excluded).
    public var seconds: Double
}

/// When the loop evaluates, checkpoints and stops, and what it tells its caller.
public struct RunHooks {
    /// Evaluate after every this many steps (0: only at the end and at `evaluateAt`).
    public var evalEvery = 0
    /// Evaluate after exactly these steps too (the budgets a shared fixed-cycle run passes).
    public var evaluateAt: Set<Int> = []
    /// Checkpoint after every this many steps (0: never), except after the last one.
    public var checkpointEvery = 0
    /// Where checkpoints go; nil: none are written.
    public var checkpoints: CheckpointFolder?
    /// Checkpoint once more when the run completes (so a finished run can be inspected or sampled).
    public var checkpointAtEnd = false
    /// Lasting checkpoints written after these steps, each into its own folders: the starts of
    /// the runs branched from this one (a wsd trunk's branches).
    public var branchCheckpoints: [Int: [CheckpointFolder]] = [:]
    /// Called once the branch checkpoints after a step are all written.
    public var onBranchCheckpoint: (Int) throws -> Void = { _ in }
    /// Called after every step.
    public var onStep: (StepReport) throws -> Void = { _ in }
    /// Called before a checkpoint replaces the previous one: whatever the checkpoint must not
    /// get ahead of is made durable here (the sweep's metric rows).
    public var beforeCheckpoint: () throws -> Void = {}

    public init(evalEvery: Int = 0, evaluateAt: Set<Int> = [], checkpointEvery: Int = 0,
                checkpoints: CheckpointFolder? = nil, checkpointAtEnd: Bool = false) {
        self.evalEvery = evalEvery
        self.evaluateAt = evaluateAt
        self.checkpointEvery = checkpointEvery
        self.checkpoints = checkpoints
        self.checkpointAtEnd = checkpointAtEnd
    }

    /// Whether the loop evaluates after `step` of a run of `total` steps.
    public func evaluates(after step: Int, of total: Int) -> Bool {
        step == total || evaluateAt.contains(step) || (evalEvery > 0 && step % evalEvery == 0)
    }
}

/// How a call of `run` ended.
public enum RunEnd: Equatable, Sendable {
    /// All steps done; the loss of the evaluation after the last step.
    case finished(evalLoss: Double)
    /// `shouldStop` said so; a checkpoint at `step` was written (when there is a folder).
    case stopped(step: Int)
    /// The step after `step − 1` diverged; nothing was checkpointed.
    case diverged(step: Int, loss: Double, reason: String)
}

extension TrainingRun {
    /// Trains to the end of the run (or until stopped or diverged), evaluating, reporting and
    /// checkpointing as `hooks` say; `shouldStop` is asked before every step (true: checkpoint
    /// and stop). Starts at the current step, so a resumed run continues.
    public func run(_ hooks: RunHooks, shouldStop: () -> Bool = { false }) throws -> RunEnd {
        func checkpoint() throws {
            if let folder = hooks.checkpoints { try folder.save(self, beforeSwap: hooks.beforeCheckpoint) }
        }
        var lastEval: Double?
        while !isFinished {
            if shouldStop() {
                try checkpoint()
                return .stopped(step: step)
            }
            let started = DispatchTime.now().uptimeNanoseconds
            let r: StepResult
            do { r = try trainStep() } catch TrainingError.diverged(let s, let loss, let reason) {
                return .diverged(step: s, loss: loss, reason: reason)
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            let eval = hooks.evaluates(after: r.step, of: totalSteps) ? evaluate() : nil
            if let eval { lastEval = eval }
            try hooks.onStep(StepReport(result: r, evalLoss: eval, seconds: seconds))
            // Before the step's own checkpoint: a resume from that checkpoint then never skips
            // a branch's start.
            if let folders = hooks.branchCheckpoints[r.step] {
                for f in folders { try f.save(self, beforeSwap: hooks.beforeCheckpoint) }
                try hooks.onBranchCheckpoint(r.step)
            }
            if hooks.checkpointEvery > 0, r.step % hooks.checkpointEvery == 0, r.step < totalSteps {
                try checkpoint()
            }
        }
        if hooks.checkpointAtEnd { try checkpoint() }
        return .finished(evalLoss: lastEval ?? evaluate())
    }
}

/// A run's checkpoint folder, replaced as a whole: a new checkpoint is written beside it as
/// `<path>.new`, the caller's `beforeSwap` makes what it depends on durable, a marker file
/// records that, and only then is it swapped in. A kill at any moment leaves one complete
/// checkpoint, the old or the new, whose metric rows are stored.
public struct CheckpointFolder: Sendable {
    public let path: String
    var fresh: String { path + ".new" }
    var marker: String { fresh + "/rows-stored" }

    public init(_ path: String) { self.path = path }

    /// Whether the folder holds a complete checkpoint (its `state.json` is written last).
    public var hasCheckpoint: Bool { FileManager.default.fileExists(atPath: path + "/state.json") }

    /// Finishes a swap that a kill interrupted between removing the old checkpoint and
    /// renaming the new one.
    public func recover() throws {
        let fm = FileManager.default
        guard !hasCheckpoint, fm.fileExists(atPath: fresh + "/state.json"), fm.fileExists(atPath: marker) else { return }
        try? fm.removeItem(atPath: path)
        do { try fm.moveItem(atPath: fresh, toPath: path) } catch {
            throw TrainingError.checkpoint(path: fresh, reason: "cannot move it to \(path): \(error.localizedDescription)")
        }
    }

    /// Writes `run`'s checkpoint beside the current one and swaps it in after `beforeSwap`.
    public func save(_ run: TrainingRun, beforeSwap: () throws -> Void = {}) throws {
        let fm = FileManager.default
        try? fm.removeItem(atPath: fresh)
        try run.saveCheckpoint(to: fresh)
        try beforeSwap()
        guard fm.createFile(atPath: marker, contents: nil) else {
            throw TrainingError.checkpoint(path: marker, reason: "cannot write the marker file")
        }
        try? fm.removeItem(atPath: path)
        do { try fm.moveItem(atPath: fresh, toPath: path) } catch {
            throw TrainingError.checkpoint(path: fresh, reason: "cannot move it to \(path): \(error.localizedDescription)")
        }
    }
}
