// The training loop of RunLoop.swift: when it evaluates, that stopping and resuming through a
// checkpoint folder gives the uninterrupted run bit for bit, the atomic swap's recovery, and
// divergence.
import Foundation
import Model
import Tokenizer
import Training
import XCTest

final class RunLoopTests: XCTestCase {
    let V = 16, T = 8, B = 4

    func trainer(steps: Int = 20, modelSeed: UInt64 = 3) throws -> (Trainer, BigramModel) {
        let dir = temporaryDirectory(self)
        let train = try TokenFile(path: writeTokens(chainTokens(count: 5000, vocabSize: V, seed: 1), in: dir, name: "train.bin"))
        let val = try TokenFile(path: writeTokens(chainTokens(count: 1000, vocabSize: V, seed: 2), in: dir, name: "val.bin"))
        var c = TrainConfig(model: GPTConfig(vocabSize: V, context: T, d: 32, layers: 1), batchSize: B, steps: steps,
                            schedule: LRSchedule(kind: .matched, peak: 0.05, totalSteps: steps), seed: 3)
        c.evalBatches = 2
        let m = BigramModel(vocabSize: V, context: T, batchSize: B, seed: modelSeed)
        return (try Trainer(config: c, model: m, train: train, validation: val), m)
    }

    func parameters(_ m: BigramModel) -> [Float] { Array(UnsafeBufferPointer(start: m.parameters, count: m.parameterCount)) }

    func testEvaluatesEveryKStepsAtTheGivenStepsAndAtTheEnd() throws {
        let (t, _) = try trainer()
        var hooks = RunHooks(evalEvery: 8, evaluateAt: [3, 13])
        var evaluated: [Int: Double] = [:], steps: [Int] = []
        hooks.onStep = { report in
            steps.append(report.result.step)
            if let e = report.evalLoss { evaluated[report.result.step] = e }
        }
        let end = try t.run(hooks)
        XCTAssertEqual(steps, Array(1...20))
        XCTAssertEqual(evaluated.keys.sorted(), [3, 8, 13, 16, 20])
        XCTAssertEqual(end, .finished(evalLoss: evaluated[20]!))

        // The same steps by hand, evaluating at step 13: the loop adds nothing of its own.
        let (manual, _) = try trainer()
        for _ in 0..<13 { _ = try manual.trainStep() }
        XCTAssertEqual(manual.evaluate(), evaluated[13])
    }

    func testStopAndResumeThroughTheFolderEqualsOneRun() throws {
        let (whole, wholeModel) = try trainer()
        var all: [StepResult] = []
        var hooks = RunHooks(evalEvery: 5)
        hooks.onStep = { all.append($0.result) }
        _ = try whole.run(hooks)

        let folder = CheckpointFolder(temporaryDirectory(self) + "/run-1")
        let (first, _) = try trainer()
        var parts: [StepResult] = [], flushedAt: [Int] = []
        var h = RunHooks(evalEvery: 5, checkpointEvery: 4, checkpoints: folder)
        h.onStep = { parts.append($0.result) }
        h.beforeCheckpoint = { flushedAt.append(parts.count) }
        XCTAssertEqual(try first.run(h) { parts.count == 11 }, .stopped(step: 11))
        XCTAssertEqual(flushedAt, [4, 8, 11], "rows are made durable before every swap, the stop's included")
        XCTAssertTrue(folder.hasCheckpoint)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.path + ".new"))

        // Another model's weights: everything comes from the checkpoint.
        let (_, other) = try trainer(modelSeed: 99)
        let resumed = try Trainer.resume(from: folder.path, model: other, train: first.train, validation: first.validation)
        _ = try resumed.run(h)
        XCTAssertEqual(parts, all)
        XCTAssertEqual(parameters(other), parameters(wholeModel))
    }

    func testRecoveryTakesACompleteNewCheckpointOnlyWhenMarked() throws {
        let (t, _) = try trainer()
        _ = try t.trainStep()
        let folder = CheckpointFolder(temporaryDirectory(self) + "/run-2")
        let fm = FileManager.default
        // Killed after writing `.new` but before its rows were stored: not taken.
        try t.saveCheckpoint(to: folder.path + ".new")
        try folder.recover()
        XCTAssertFalse(folder.hasCheckpoint)
        // Killed between removing the old checkpoint and renaming the marked new one: taken.
        XCTAssertTrue(fm.createFile(atPath: folder.path + ".new/rows-stored", contents: nil))
        try folder.recover()
        XCTAssertTrue(folder.hasCheckpoint)
        XCTAssertEqual(try Checkpoint.config(in: folder.path), t.config)
        XCTAssertFalse(fm.fileExists(atPath: folder.path + ".new"))
    }

    func testDivergenceEndsTheRunWithoutACheckpoint() throws {
        let (t, m) = try trainer()
        let folder = CheckpointFolder(temporaryDirectory(self) + "/run-3")
        var hooks = RunHooks(checkpointEvery: 1, checkpoints: folder)
        hooks.onStep = { if $0.result.step == 2 { m.forcedLoss = .nan } }
        guard case .diverged(let step, _, let reason) = try t.run(hooks) else { return XCTFail("the run did not diverge") }
        XCTAssertEqual(step, 3)
        XCTAssertTrue(reason.contains("not finite"))
        XCTAssertEqual(try Checkpoint.config(in: folder.path), t.config)
        XCTAssertEqual(t.step, 2, "the checkpoint after step 2 is the last one")
    }
}
