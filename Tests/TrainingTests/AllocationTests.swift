// Whether the step loop allocates, counted by a preloaded malloc wrapper when one is present.

import Foundation
import Model
import Tokenizer
import Training
import XCTest

final class AllocationTests: XCTestCase {
    /// Calls to malloc and friends so far, read from `alloc_count_total()` of a library
    /// preloaded with LD_PRELOAD that wraps them; nil when none is loaded.
    static func allocationCount() -> Int? {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "alloc_count_total") else { return nil }
        typealias Counter = @convention(c) () -> Int
        return unsafeBitCast(symbol, to: Counter.self)()
    }

    func testTrainStepAndEvaluateDoNotAllocate() throws {
        guard Self.allocationCount() != nil else {
            throw XCTSkip("needs an LD_PRELOAD library exporting alloc_count_total()")
        }
        let dir = temporaryDirectory(self)
        let train = try TokenFile(path: writeTokens(chainTokens(count: 20000, vocabSize: 64, seed: 1), in: dir, name: "t.bin"))
        var config = TrainConfig(model: GPTConfig(vocabSize: 64, context: 16, d: 32, layers: 1), batchSize: 4, steps: 100,
                                 schedule: LRSchedule(kind: .matched, peak: 0.01, totalSteps: 100))
        config.evalBatches = 2
        let trainer = try Trainer(config: config, model: BigramModel(vocabSize: 64, context: 16, batchSize: 4, seed: 1),
                                  train: train, validation: train)
        _ = try trainer.trainStep()
        _ = trainer.evaluate()
        let before = Self.allocationCount()!
        for _ in 0..<20 { _ = try trainer.trainStep() }
        _ = trainer.evaluate()
        XCTAssertEqual(Self.allocationCount()! - before, 0)
    }
}
