// The sweep's RunExecutor: trains one planned run with Training's run loop, resuming from the
// run's checkpoint folder, logging every step to the store's metric sink, and handing it the
// result so far at the last step of every shorter run read from this one.
import Foundation
import Tokenizer
import Training

public struct TrainerExecutor: RunExecutor {
    /// Train loss reported as final: the mean over this many last steps (one batch is noisy).
    public var finalWindow = 20

    public init() {}

    public func execute(_ run: PlannedRun, checkpointDirectory dir: String, log: MetricSink,
                        shouldStop: () -> Bool) throws -> RunOutcome {
        let config = try run.trainConfig()
        let folder = CheckpointFolder(dir)
        let trainer = try Trainer.open(config: config, resumingFrom: folder, branchingFrom: run.startingCheckpoint(dir),
                                       train: TokenFile(path: run.trainTokens), validation: TokenFile(path: run.evalTokens))
        var recent = [Double](repeating: .nan, count: finalWindow)
        // A resumed run or a branch takes up the window where it stopped (a branch's last steps
        // before its cooldown are its trunk's rows), so its final loss is a run's of its own.
        for row in try log.history(through: trainer.step).suffix(finalWindow) { recent[row.step % finalWindow] = row.trainLoss }
        // The same sum in the same order at a shared run's last step as at this run's end,
        // so a run read from this one gets the bits a run of its own would.
        func finalTrainLoss() -> Double {
            let finite = recent.filter { $0.isFinite }
            return finite.isEmpty ? .nan : finite.reduce(0, +) / Double(finite.count)
        }
        let start = Date(), startTokens = trainer.tokens
        func tokensPerSecond() -> Double {
            let seconds = Date().timeIntervalSince(start)
            return seconds > 0 ? Double(trainer.tokens - startTokens) / seconds : 0
        }
        let resultSteps = log.resultSteps
        var hooks = RunHooks(evalEvery: config.evalEvery, evaluateAt: resultSteps,
                             checkpointEvery: config.checkpointEvery, checkpoints: folder)
        hooks.writeBranchStarts(for: log)
        hooks.onStep = { s in
            recent[s.result.step % finalWindow] = s.result.loss
            try log.log(MetricRow(run: 0, step: s.result.step, tokens: s.result.tokens,
                                  flops: Double(s.result.tokens) * run.flopsPerToken, lr: s.result.lr,
                                  trainLoss: s.result.loss, evalLoss: s.evalLoss))
            if resultSteps.contains(s.result.step) {
                try log.record(.done(finalTrainLoss: finalTrainLoss(), finalEvalLoss: s.evalLoss,
                                     tokensPerSecond: tokensPerSecond()), after: s.result.step)
            }
        }
        // The rows up to a checkpoint are stored before it is swapped in: a takeover resuming
        // from a checkpoint ahead of the metrics would never write the missing rows.
        hooks.beforeCheckpoint = { try log.flush() }
        let end = try trainer.run(hooks, shouldStop: shouldStop)
        try log.flush()
        return RunOutcome(end, finalTrainLoss: finalTrainLoss(), tokensPerSecond: tokensPerSecond())
    }
}

extension RunOutcome {
    /// What the store records of a run whose training loop ended with `end`: the loop knows its
    /// step, last eval loss and why it diverged; the executor adds a finished run's final train
    /// loss and throughput (asked only then).
    init(_ end: RunEnd, finalTrainLoss: @autoclosure () -> Double, tokensPerSecond: @autoclosure () -> Double) {
        switch end {
        case .stopped: self = .stopped
        case .diverged(let step, let loss, _): self = .diverged(step: step, loss: loss)
        case .finished(let evalLoss):
            self = .done(finalTrainLoss: finalTrainLoss(), finalEvalLoss: evalLoss, tokensPerSecond: tokensPerSecond())
        }
    }
}
