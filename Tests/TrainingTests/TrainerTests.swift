import Foundation
import Model
import Tensor
import Tokenizer
import Training
import XCTest

final class TrainerTests: XCTestCase {
    let V = 16, T = 8, B = 4

    /// Train and validation files from the same chain, different seeds.
    func data() throws -> (TokenFile, TokenFile) {
        let dir = temporaryDirectory(self)
        return (try TokenFile(path: writeTokens(chainTokens(count: 5000, vocabSize: V, seed: 1), in: dir, name: "train.bin")),
                try TokenFile(path: writeTokens(chainTokens(count: 1000, vocabSize: V, seed: 2), in: dir, name: "val.bin")))
    }

    func config(steps: Int = 40, kind: ScheduleKind = .matched) -> TrainConfig {
        var c = TrainConfig(model: GPTConfig(vocabSize: V, context: T, d: 32, layers: 1), batchSize: B, steps: steps,
                            schedule: LRSchedule(kind: kind, peak: 0.05, totalSteps: steps), seed: 3)
        c.evalBatches = 4
        return c
    }

    func model(seed: UInt64 = 3) -> BigramModel { BigramModel(vocabSize: V, context: T, batchSize: B, seed: seed) }

    func parameters(_ m: BigramModel) -> [Float] { Array(UnsafeBufferPointer(start: m.parameters, count: m.parameterCount)) }

    func testBigramGradientMatchesFiniteDifferences() throws {
        let (train, _) = try data()
        let m = model()
        var x = [Int32](repeating: 0, count: B * T), y = x
        var sampler = BatchSampler(seed: 5)
        sampler.fill(from: train, batch: B, context: T, inputs: &x, targets: &y)
        _ = m.forwardBackward(inputs: x, targets: y)
        let analytic = Array(UnsafeBufferPointer(start: m.gradients, count: m.parameterCount))
        // Central differences with h = 1e-2 on the Float32 parameters; the loss is summed in
        // Float64, so agreement to 1e-4 absolute (gradients are up to ~0.1) is expected.
        let h: Float = 1e-2
        var worst: Float = 0
        for i in 0..<m.parameterCount {
            let saved = m.parameters[i]
            m.parameters[i] = saved + h
            let up = m.loss(inputs: x, targets: y)
            m.parameters[i] = saved - h
            let down = m.loss(inputs: x, targets: y)
            m.parameters[i] = saved
            worst = max(worst, abs((up - down) / (2 * h) - analytic[i]))
        }
        XCTAssertLessThan(worst, 1e-4)
    }

    func testTrainingLowersTheEvaluationLoss() throws {
        let (train, val) = try data()
        let trainer = try Trainer(config: config(steps: 150), model: model(), train: train, validation: val)
        let before = trainer.evaluate()
        XCTAssertEqual(before, trainer.evaluate(), "the held-out sample is fixed")
        var last = StepResult(step: 0, loss: 0, lr: 0, gradNorm: 0, tokens: 0)
        while !trainer.isFinished { last = try trainer.trainStep() }
        let after = trainer.evaluate()
        XCTAssertEqual(last.step, 150)
        XCTAssertEqual(last.tokens, 150 * B * T)
        XCTAssertEqual(last.lr, 0.005, accuracy: 1e-12, "matched cosine ends at 0.1 × peak")
        // The chain is 90% deterministic: entropy ≈ 0.1·ln 16 + H(0.9…) ≈ 0.6 nats, ln 16 ≈ 2.77.
        XCTAssertGreaterThan(before, 2.5)
        XCTAssertLessThan(after, 1.2)
        XCTAssertThrowsError(try trainer.trainStep(), "no steps past the end")
    }

    func run(_ trainer: Trainer, steps: Int) throws -> [StepResult] {
        try (0..<steps).map { _ in try trainer.trainStep() }
    }

    func testOneSeedGivesIdenticalRuns() throws {
        let (train, val) = try data()
        let a = model(), b = model()
        let ra = try run(Trainer(config: config(), model: a, train: train, validation: val), steps: 40)
        let rb = try run(Trainer(config: config(), model: b, train: train, validation: val), steps: 40)
        XCTAssertEqual(ra, rb)
        XCTAssertEqual(parameters(a), parameters(b))
        var other = config()
        other.seed = 4
        let rc = try run(Trainer(config: other, model: model(), train: train, validation: val), steps: 40)
        XCTAssertNotEqual(ra.map(\.loss), rc.map(\.loss), "another seed draws other batches")
    }

    func testResumedRunIsBitIdenticalToAnUninterruptedOne() throws {
        let (train, val) = try data()
        let whole = model()
        let uninterrupted = try run(Trainer(config: config(), model: whole, train: train, validation: val), steps: 40)

        let dir = temporaryDirectory(self) + "/ckpt"
        let first = try Trainer(config: config(), model: model(), train: train, validation: val)
        let firstHalf = try run(first, steps: 17)
        try first.saveCheckpoint(to: dir)
        for name in ["model.safetensors", "optimizer.safetensors", "config.json", "state.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/" + name), name)
        }
        // A fresh model with other weights: everything must come from the checkpoint.
        let resumed = try Trainer.resume(from: dir, model: model(seed: 99), train: train, validation: val)
        XCTAssertEqual(resumed.step, 17)
        XCTAssertEqual(resumed.tokens, 17 * B * T)
        let secondHalf = try run(resumed, steps: 23)
        XCTAssertEqual(firstHalf + secondHalf, uninterrupted)
        XCTAssertEqual(parameters(resumed.model as! BigramModel), parameters(whole))
    }

    func testCheckpointHoldsParametersByName() throws {
        let (train, val) = try data()
        let m = model()
        let trainer = try Trainer(config: config(), model: m, train: train, validation: val)
        _ = try run(trainer, steps: 3)
        let dir = temporaryDirectory(self)
        try trainer.saveCheckpoint(to: dir)
        let tensors = Dictionary(uniqueKeysWithValues: try Safetensors.read(from: dir + "/model.safetensors").tensors.map { ($0.name, $0) })
        XCTAssertEqual(Set(tensors.keys), ["wte.weight", "bias"])
        XCTAssertEqual(tensors["bias"]?.values, Array(parameters(m)[(V * V)...]))
        XCTAssertEqual(try Checkpoint.config(in: dir), config())
        let copy = model(seed: 42)
        try Checkpoint.loadParameters(from: dir, into: copy)
        XCTAssertEqual(parameters(copy), parameters(m))
    }

    func testNonFiniteOrExplodingLossStopsTheRun() throws {
        let (train, val) = try data()
        let m = model()
        let trainer = try Trainer(config: config(), model: m, train: train, validation: val)
        let before = parameters(m)
        m.forcedLoss = .nan
        XCTAssertThrowsError(try trainer.trainStep()) {
            guard case .diverged(let step, _, let reason)? = $0 as? TrainingError else { return XCTFail("\($0)") }
            XCTAssertEqual(step, 1)
            XCTAssertTrue(reason.contains("not finite"))
        }
        XCTAssertEqual(parameters(m), before, "no update from a diverged step")
        XCTAssertEqual(trainer.step, 0)

        // During warmup a high loss is tolerated; after it, above 2 ln V is divergence.
        m.forcedLoss = 10
        for _ in 0..<10 { XCTAssertNoThrow(try trainer.trainStep()) }
        XCTAssertThrowsError(try trainer.trainStep()) {
            guard case .diverged(let step, let loss, _)? = $0 as? TrainingError else { return XCTFail("\($0)") }
            XCTAssertEqual(step, 11)
            XCTAssertEqual(loss, 10)
        }
    }

    func testMismatchesAreRejected() throws {
        let (train, val) = try data()
        var c = config()
        c.batchSize = 5
        XCTAssertThrowsError(try Trainer(config: c, model: model(), train: train, validation: val)) {
            guard case .modelMismatch? = $0 as? TrainingError else { return XCTFail("\($0)") }
        }
        let dir = temporaryDirectory(self)
        let tiny = try TokenFile(path: writeTokens([1, 2, 3], in: dir, name: "tiny.bin"))
        XCTAssertThrowsError(try Trainer(config: config(), model: model(), train: train, validation: tiny)) {
            XCTAssertEqual($0 as? TokenFileError, .contextTooLong(path: tiny.path, tokens: 3, context: T))
        }
    }

    func testSampling() throws {
        var rng = RNG(seed: 1)
        let logits: [Float] = [0.5, 2, Float(log(3.0)) + 0.5, -1]
        XCTAssertEqual(Sampling.draw(logits, temperature: 0, topK: 0, rng: &rng), 1)
        XCTAssertEqual(Sampling.draw(logits, temperature: 1, topK: 1, rng: &rng), 1)
        // Top-2 keeps tokens 1 and 2 with weights e^2 and 3e^0.5.
        let p1 = exp(2.0) / (exp(2.0) + 3 * exp(0.5))
        var ones = 0
        let n = 20000
        for _ in 0..<n {
            let k = Sampling.draw(logits, temperature: 1, topK: 2, rng: &rng)
            XCTAssertTrue(k == 1 || k == 2)
            if k == 1 { ones += 1 }
        }
        XCTAssertEqual(Double(ones) / Double(n), p1, accuracy: 0.015)

        let (train, val) = try data()
        let trainer = try Trainer(config: config(steps: 150), model: model(), train: train, validation: val)
        _ = try run(trainer, steps: 150)
        // Greedy decoding of a trained bigram follows the chain x → 3x + 1 mod 16.
        let out = Sampling.generate(model: trainer.model, prompt: [2], count: 5, temperature: 0, topK: 0, seed: 0)
        XCTAssertEqual(out, [2, 7, 6, 3, 10, 15])
        XCTAssertEqual(Sampling.generate(model: trainer.model, prompt: [2], count: 8, temperature: 1, topK: 4, seed: 9),
                       Sampling.generate(model: trainer.model, prompt: [2], count: 8, temperature: 1, topK: 4, seed: 9))
    }
}
