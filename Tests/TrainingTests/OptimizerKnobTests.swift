// β2 and weight decay from a run's config reach AdamW and change an update exactly as the
// formulas say (the ladder's tuned-optimizer rung sets β2 = 0.99).
import Foundation
import Model
import Tokenizer
import Training
import XCTest

final class OptimizerKnobTests: XCTestCase {
    /// One parameter that does not decay, lr 0.1, β1 0.9, gradients 1 then 3.
    func twoSteps(beta2: Float) -> Float {
        let adam = AdamW(table: [ParameterInfo(name: "b", shape: [1], offset: 0, decays: false)], count: 1, beta2: beta2)
        var p: [Float] = [1]
        for g: Float in [1, 3] {
            p.withUnsafeMutableBufferPointer { adam.step(parameters: $0.baseAddress!, gradients: [g], lr: 0.1) }
        }
        return p[0]
    }

    func testBeta2ChangesTheSecondUpdateAsHandComputed() {
        // Step 1 moves by lr·sign(g) whatever β2 (m̂ = g, v̂ = g²): p = 0.9. Step 2: m = 0.09 + 0.3 = 0.39,
        // m̂ = 0.39 / 0.19. β2 = 0.99: v = 0.0099 + 0.09 = 0.0999, v̂ = 0.0999 / 0.0199;
        // p = 0.9 − 0.1·(0.39/0.19)/√(0.0999/0.0199) = 0.808387. β2 = 0.95: v = 0.0475 + 0.45 = 0.4975,
        // v̂ = 0.4975 / 0.0975, p = 0.809131.
        XCTAssertEqual(twoSteps(beta2: 0.99), 0.808387, accuracy: 2e-6)
        XCTAssertEqual(twoSteps(beta2: 0.95), 0.809131, accuracy: 2e-6)
    }

    func testWeightDecayShrinksDecayingTensorsByLrTimesDecay() {
        // p = 1, g = 1, lr 0.1: p·(1 − 0.1·wd) − 0.1 → 0.85 at wd = 0.5, 0.89 at wd = 0.1.
        for (wd, expected) in [(Float(0.5), Float(0.85)), (0.1, 0.89), (0, 0.9)] {
            let adam = AdamW(table: [ParameterInfo(name: "w", shape: [1], offset: 0, decays: true)], count: 1, weightDecay: wd)
            var p: [Float] = [1]
            p.withUnsafeMutableBufferPointer { adam.step(parameters: $0.baseAddress!, gradients: [1], lr: 0.1) }
            XCTAssertEqual(p[0], expected, accuracy: 1e-6, "wd \(wd)")
        }
    }

    func testTheTrainersAdamWTakesTheConfigsBetasAndDecay() throws {
        let dir = temporaryDirectory(self)
        let train = try TokenFile(path: writeTokens(chainTokens(count: 3000, vocabSize: 16, seed: 1), in: dir, name: "train.bin"))
        let val = try TokenFile(path: writeTokens(chainTokens(count: 1000, vocabSize: 16, seed: 2), in: dir, name: "val.bin"))
        var c = TrainConfig(model: GPTConfig(vocabSize: 16, context: 8, d: 32, layers: 1), batchSize: 4, steps: 5,
                            schedule: LRSchedule(kind: .matched, peak: 0.01, totalSteps: 5), seed: 1)
        c.beta1 = 0.8
        c.beta2 = 0.99
        c.weightDecay = 0.3
        let trainer = try Trainer(config: c, model: BigramModel(vocabSize: 16, context: 8, batchSize: 4, seed: 1), train: train, validation: val)
        XCTAssertEqual(trainer.optimizer.beta1, 0.8)
        XCTAssertEqual(trainer.optimizer.beta2, 0.99)
        XCTAssertEqual(trainer.optimizer.weightDecay, 0.3)
    }
}
