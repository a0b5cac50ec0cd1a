// What the store holds for each run, as the rest of the program sees it: its state, its
// logged steps, how it ended, and how far each budget of a sweep has come.
import Foundation

public enum RunStatus: String, Codable, Sendable, CaseIterable {
    case planned, running, done, diverged, failed
}

/// One logged step of a run. Primary key (run, step): a resumed run rewrites, never duplicates.
public struct MetricRow: Equatable, Sendable {
    public var run: Int64
    public var step: Int
    public var tokens: Int
    public var flops: Double
    public var lr: Double
    public var trainLoss: Double
    public var evalLoss: Double?

    public init(run: Int64, step: Int, tokens: Int, flops: Double, lr: Double, trainLoss: Double, evalLoss: Double? = nil) {
        self.run = run
        self.step = step
        self.tokens = tokens
        self.flops = flops
        self.lr = lr
        self.trainLoss = trainLoss
        self.evalLoss = evalLoss
    }
}

/// How a run ended, as reported by its executor.
public enum RunOutcome: Equatable, Sendable {
    case done(finalTrainLoss: Double, finalEvalLoss: Double?, tokensPerSecond: Double)
    /// The loss became non-finite or exploded at `step`.
    case diverged(step: Int, loss: Double)
    /// Asked to stop (Ctrl-C): the executor has checkpointed; the run goes back to planned.
    case stopped
}

/// A run as stored.
public struct RunRecord: Sendable {
    public var id: Int64
    public var sweep: Int64
    public var plan: PlannedRun
    public var status: RunStatus
    public var worker: String?
    public var host: String?
    public var pid: Int?
    public var leaseExpiry: Double?
    public var started: Double?
    public var ended: Double?
    /// Last step and train loss flushed by the worker (for progress views).
    public var step: Int
    public var lastLoss: Double?
    public var finalTrainLoss: Double?
    public var finalEvalLoss: Double?
    public var tokensPerSecond: Double?
    public var wallSeconds: Double?
    public var message: String?
    public var attempts: Int
    /// Key of the run this one's result was read from (`PlannedRun.sharedFrom`), nil when it
    /// is trained itself.
    public var sharedFrom: String? = nil
    /// The wsd trunk this run branches from and the step it starts at (`PlannedRun.branchOf`,
    /// `branchStep`), nil when it is trained from the start.
    public var branchOf: String? = nil
    public var branchStep: Int? = nil
    /// Whether the trunk's checkpoint at `branchStep` is written: a branch is claimed only then.
    public var branchReady = false
    /// Why the run was planned.
    public var origin: RunOrigin = .grid
    /// The run of another sweep (a ladder's other rung) whose result was copied into this one.
    public var copiedFrom: Int64? = nil
}

/// How far one budget of a sweep has come.
public struct BudgetProgress: Equatable, Sendable {
    public var budget: Double
    public var runs: Int
    public var ended: Int
    public var isComplete: Bool { ended == runs }

    public init(budget: Double, runs: Int, ended: Int) {
        self.budget = budget
        self.runs = runs
        self.ended = ended
    }
}
