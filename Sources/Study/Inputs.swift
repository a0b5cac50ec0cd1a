// What a study checks and builds before a worker starts, so that a bad plan fails once, with
// its reason, instead of failing every run in the store.
import Corpus
import Foundation
import Sweep
import Tokenizer
import Training

/// Builds the corpus, tokenizer and token files a sweep trains on when they are missing
/// (built-in corpora and ones added with `isoflop corpus add`), so a fresh checkout can run a
/// sweep directly. `progress` gets a line per step of the build.
public func prepareSweepData(_ cfg: SweepConfig, progress: @escaping (String) -> Void) throws {
    let fm = FileManager.default
    if fm.fileExists(atPath: cfg.trainTokens), fm.fileExists(atPath: cfg.evalTokens) { return }
    progress("preparing corpus \(cfg.corpus) at V=\(cfg.vocab)")
    let prepared = try prepareCorpus(cfg.corpus, vocabSize: cfg.vocab, layout: DataLayout(),
                                     threads: ProcessInfo.processInfo.activeProcessorCount,
                                     progress: { progress("  " + $0) })
    for (want, got) in [(cfg.trainTokens, prepared.train), (cfg.evalTokens, prepared.validation)]
    where !fm.fileExists(atPath: want) {
        throw StudyError.dataMissing(expected: want, built: got)
    }
}

/// Every run's training config, the tokenizer and the token files of a sweep: the tokenizer
/// has the config's vocabulary, each token file is a regular file whose ids fit it, holds a
/// window of the context and (by its sidecar) was made by that tokenizer.
public func checkSweepInputs(_ cfg: SweepConfig, runs: [PlannedRun]) throws {
    for run in runs {
        do { _ = try run.trainConfig() } catch {
            throw StudyError.badRun(key: run.key, message: "\(error)")
        }
    }
    guard FileManager.default.fileExists(atPath: cfg.tokenizer) else { throw StudyError.tokenizerMissing(path: cfg.tokenizer) }
    let tokenizer = try BPETokenizer.load(from: cfg.tokenizer)
    guard tokenizer.vocabSize == cfg.vocab else {
        throw StudyError.vocabMismatch(tokenizer: cfg.tokenizer, found: tokenizer.vocabSize, expected: cfg.vocab)
    }
    for path in Set([cfg.trainTokens, cfg.evalTokens]).sorted() {
        let file = try TokenFile(path: path)
        try file.check(context: cfg.context, vocabSize: cfg.vocab)
        if path == cfg.evalTokens { try cfg.checkEvaluation(validationTokens: file.count, path: path) }
        try TokenFileInfo.checkSidecar(path, vocabSize: cfg.vocab, tokenizerPath: cfg.tokenizer)
    }
}

/// Workers started elsewhere (a Slurm array, `isoflop worker`) only train what is planned: an
/// adaptive grid's later budgets are planned by the driver of `sweep run`, so those paths refuse it.
public func refuseAdaptiveWithoutDriver(_ cfg: SweepConfig, file: String) throws {
    if cfg.grid.adaptive { throw StudyError.adaptiveNeedsDriver(file: file) }
}
