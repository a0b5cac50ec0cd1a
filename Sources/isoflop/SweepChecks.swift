// What `sweep run` checks before it starts a worker, so that a bad plan fails once, here, with
// its reason, instead of failing every run in the store; and how it reports runs that failed.
import Foundation
import Corpus
import Sweep
import Tokenizer
import Training

/// Every run's training config, the tokenizer and the token files of a sweep: the tokenizer
/// has the config's vocabulary, each token file is a regular file whose ids fit it, holds a
/// window of the context and (by its sidecar) was made by that tokenizer.
func checkSweepInputs(_ cfg: SweepConfig, runs: [PlannedRun]) throws {
    for run in runs {
        do { _ = try run.trainConfig() } catch {
            throw CLIError("run \(run.key): \(describeError(error))")
        }
    }
    guard FileManager.default.fileExists(atPath: cfg.tokenizer) else {
        throw CLIError("tokenizer \(cfg.tokenizer) (the config's 'tokenizer') does not exist")
    }
    let tokenizer = try BPETokenizer.load(from: cfg.tokenizer)
    guard tokenizer.vocabSize == cfg.vocab else {
        throw CLIError("tokenizer \(cfg.tokenizer) has \(tokenizer.vocabSize) tokens, the sweep's vocab is \(cfg.vocab)")
    }
    for path in Set([cfg.trainTokens, cfg.evalTokens]).sorted() {
        let file = try TokenFile(path: path)
        try file.check(context: cfg.context, vocabSize: cfg.vocab)
        if path == cfg.evalTokens { try cfg.checkEvaluation(validationTokens: file.count, path: path) }
        try TokenFileInfo.checkSidecar(path, vocabSize: cfg.vocab, tokenizerPath: cfg.tokenizer)
    }
}

/// One line per failed run with its reason, for the end of `sweep run`; nil when none failed.
func failedRunsReport(_ store: RunStore, sweep: Int64) throws -> String? {
    let failed = try store.runs(sweep: sweep).filter { $0.status == .failed }
    guard !failed.isEmpty else { return nil }
    return failed.map { "failed: \($0.plan.key): \(oneLineMessage($0.message ?? "no reason recorded"))" }.joined(separator: "\n")
}
