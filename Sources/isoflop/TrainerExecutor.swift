// The sweep's RunExecutor: trains one planned run with the gpt-mini engine and the Trainer,
// resuming from the run's checkpoint, logging every step to the store's metric sink.
import Foundation
import Model
import Sweep
import Tokenizer
import Training

struct TrainerExecutor: RunExecutor {
    /// Train loss reported as final: the mean over this many last steps (one batch is noisy).
    var finalWindow = 20

    func execute(_ run: PlannedRun, checkpointDirectory dir: String, log: MetricSink,
                 shouldStop: () -> Bool) throws -> RunOutcome {
        let config = try run.trainConfig()
        let train = try TokenFile(path: run.trainTokens)
        let validation = try TokenFile(path: run.evalTokens)
        let model = try GPT(config: config.model, batchSize: config.batchSize, seed: config.seed)
        let fm = FileManager.default
        // A checkpoint is replaced as a whole: written beside as `.new`, then swapped in, so a
        // kill at any moment leaves one complete checkpoint (the old or the new) whose rows are
        // stored: `.new` is taken only once its rows were flushed (the marker file).
        let fresh = dir + ".new"
        let stored = fresh + "/rows-stored"
        if !fm.fileExists(atPath: dir + "/state.json"), fm.fileExists(atPath: fresh + "/state.json"),
           fm.fileExists(atPath: stored) {
            try? fm.removeItem(atPath: dir)
            try fm.moveItem(atPath: fresh, toPath: dir)
        }
        let resuming = fm.fileExists(atPath: dir + "/state.json")
        // Checkpoint folders are named by run id: two stores sharing one folder would resume each
        // other's runs. A checkpoint trained under another config is refused, never continued.
        if resuming, try Checkpoint.config(in: dir) != config {
            throw CLIError("checkpoint \(dir) belongs to another run than \(run.key) (its training config differs): "
                + "do two stores share this checkpoint folder? Give each its own --checkpoints folder, or remove the checkpoint")
        }
        let trainer = resuming
            ? try Trainer.resume(from: dir, model: model, train: train, validation: validation)
            : try Trainer(config: config, model: model, train: train, validation: validation)

        // The rows up to the checkpoint are stored before it is swapped in: a worker killed in
        // between must not leave a checkpoint ahead of the metrics (a takeover resuming from it
        // would never write the missing rows).
        func checkpoint() throws {
            try? fm.removeItem(atPath: fresh)
            try trainer.saveCheckpoint(to: fresh)
            try log.flush()
            guard fm.createFile(atPath: stored, contents: nil) else { throw CLIError("cannot write \(stored)") }
            try? fm.removeItem(atPath: dir)
            try fm.moveItem(atPath: fresh, toPath: dir)
        }

        var recent = [Double](repeating: .nan, count: finalWindow)
        var lastEval: Double?
        let start = Date()
        let startTokens = trainer.tokens
        while !trainer.isFinished {
            if shouldStop() {
                try checkpoint()
                return .stopped
            }
            let r: StepResult
            do { r = try trainer.trainStep() } catch TrainingError.diverged(let step, let loss, _) {
                try log.flush()
                return .diverged(step: step, loss: loss)
            }
            recent[r.step % finalWindow] = r.loss
            var evalLoss: Double?
            if r.step == config.steps || (config.evalEvery > 0 && r.step % config.evalEvery == 0) {
                evalLoss = trainer.evaluate()
                lastEval = evalLoss
            }
            try log.log(MetricRow(run: 0, step: r.step, tokens: r.tokens,
                                  flops: Double(r.tokens) * run.flopsPerToken, lr: r.lr,
                                  trainLoss: r.loss, evalLoss: evalLoss))
            if config.checkpointEvery > 0, r.step % config.checkpointEvery == 0, r.step < config.steps {
                try checkpoint()
            }
        }
        try log.flush()
        let finite = recent.filter { $0.isFinite }
        let finalTrain = finite.isEmpty ? .nan : finite.reduce(0, +) / Double(finite.count)
        let seconds = Date().timeIntervalSince(start)
        let rate = seconds > 0 ? Double(trainer.tokens - startTokens) / seconds : 0
        return .done(finalTrainLoss: finalTrain, finalEvalLoss: lastEval ?? trainer.evaluate(), tokensPerSecond: rate)
    }
}
