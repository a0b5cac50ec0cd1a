// The sweep's RunExecutor: trains one planned run with Training's run loop, resuming from the
// run's checkpoint folder, logging every step to the store's metric sink.
import Foundation
import Sweep
import Tokenizer
import Training

struct TrainerExecutor: RunExecutor {
    /// Train loss reported as final: the mean over this many last steps (one batch is noisy).
    var finalWindow = 20

    func execute(_ run: PlannedRun, checkpointDirectory dir: String, log: MetricSink,
                 shouldStop: () -> Bool) throws -> RunOutcome {
        let config = try run.trainConfig()
        let folder = CheckpointFolder(dir)
        let trainer = try Trainer.open(config: config, resumingFrom: folder, train: TokenFile(path: run.trainTokens),
                                       validation: TokenFile(path: run.evalTokens))
        var recent = [Double](repeating: .nan, count: finalWindow)
        var hooks = RunHooks(evalEvery: config.evalEvery, checkpointEvery: config.checkpointEvery, checkpoints: folder)
        hooks.onStep = { s in
            recent[s.result.step % finalWindow] = s.result.loss
            try log.log(MetricRow(run: 0, step: s.result.step, tokens: s.result.tokens,
                                  flops: Double(s.result.tokens) * run.flopsPerToken, lr: s.result.lr,
                                  trainLoss: s.result.loss, evalLoss: s.evalLoss))
        }
        // The rows up to a checkpoint are stored before it is swapped in: a takeover resuming
        // from a checkpoint ahead of the metrics would never write the missing rows.
        hooks.beforeCheckpoint = { try log.flush() }
        let start = Date(), startTokens = trainer.tokens
        let end = try trainer.run(hooks, shouldStop: shouldStop)
        try log.flush()
        switch end {
        case .stopped: return .stopped
        case .diverged(let step, let loss, _): return .diverged(step: step, loss: loss)
        case .finished(let evalLoss):
            let finite = recent.filter { $0.isFinite }
            let seconds = Date().timeIntervalSince(start)
            return .done(finalTrainLoss: finite.isEmpty ? .nan : finite.reduce(0, +) / Double(finite.count),
                         finalEvalLoss: evalLoss,
                         tokensPerSecond: seconds > 0 ? Double(trainer.tokens - startTokens) / seconds : 0)
        }
    }
}
