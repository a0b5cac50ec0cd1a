// Whether the step loop allocates: the test executable's malloc and its kin are the counting ones
// of the AllocationCounter target, which count the calls made on each thread.

import AllocationCounter
import Foundation
import Model
import Tokenizer
import Training
import XCTest

final class AllocationTests: XCTestCase {
    /// The counter sees the allocations of Swift's runtime (the arrays below), so a zero in the
    /// test after it means the step loop allocated nothing, not that nothing was counted.
    func testTheCounterSeesSwiftAllocations() {
        let before = allocation_count()
        let n = 4096 + Int.random(in: 0..<16)
        let buffers = (0..<3).map { [Float](repeating: Float($0), count: n) }
        XCTAssertEqual(buffers.map(\.count), [n, n, n])
        XCTAssertGreaterThanOrEqual(allocation_count() - before, 3)
    }

    /// After a first step and evaluation (which plan the buffers), 20 steps and an evaluation
    /// make no call to malloc, for the test's bigram model and for the GPT.
    func testTrainStepAndEvaluateDoNotAllocate() throws {
        let dir = temporaryDirectory(self)
        let train = try TokenFile(path: writeTokens(chainTokens(count: 20000, vocabSize: 64, seed: 1), in: dir, name: "t.bin"))
        var config = TrainConfig(model: GPTConfig(vocabSize: 64, context: 16, d: 32, layers: 1), batchSize: 4, steps: 100,
                                 schedule: LRSchedule(kind: .matched, peak: 0.01, totalSteps: 100))
        config.evalBatches = 2
        let models: [(String, LanguageModel)] = [
            ("bigram", BigramModel(vocabSize: 64, context: 16, batchSize: 4, seed: 1)),
            ("GPT", try GPT(config: config.model, batchSize: 4, seed: 1)),
        ]
        for (name, model) in models {
            let trainer = try Trainer(config: config, model: model, train: train, validation: train)
            _ = try trainer.trainStep()
            _ = trainer.evaluate()
            let before = allocation_count()
            for _ in 0..<20 { _ = try trainer.trainStep() }
            _ = trainer.evaluate()
            XCTAssertEqual(allocation_count() - before, 0, "\(name): allocations in 20 steps and an evaluation")
        }
    }
}
