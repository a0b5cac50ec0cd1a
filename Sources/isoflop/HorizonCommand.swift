// `isoflop horizon`: one model trained under cosine cycles longer than its run (Study's
// `HorizonExperiment`): the loss penalty of a cycle that does not match the training horizon.
import ArgumentParser
import Foundation
import Model
import Study

struct HorizonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "horizon",
        abstract: "Train one shape for a fixed number of steps under cosine cycles of 1×, 1.5×, 2× and 5× those steps and compare the losses.")

    @Option(help: "Corpus (built if missing).") var corpus: String = "pydocs"
    @Option(help: "Vocabulary size.") var vocab: Int = 512
    @Option(help: "Model width d.") var d: Int = 64
    @Option(help: "Blocks L.") var layers: Int = 1
    @Option(help: "Head size.") var head: Int = 32
    @Option(help: "Sequences per batch.") var batch: Int = 8
    @Option(help: "Training steps of every run.") var steps: Int = 3000
    @Option(help: "Peak LR (default: the sweep's rule for this width and run length).") var lr: Double?
    @Option(help: "Cycle lengths as multiples of the run's steps.") var cycles: String = "1,1.5,2,5"
    @Option(help: "Evaluate every this many steps.") var evalEvery: Int = 100
    @Option(help: "CSV of the curves (cycle, step, lr, eval loss).") var out: String = "out/horizon.csv"
    @Option(help: "Seed (the same initialisation and data order for every cycle).") var seed: UInt64 = 1

    func validate() throws {
        for (flag, value) in [("--vocab", vocab), ("--d", d), ("--layers", layers), ("--head", head), ("--batch", batch),
                              ("--steps", steps), ("--eval-every", evalEvery)] where value < 1 {
            throw ValidationError("\(flag) \(value) must be at least 1")
        }
        if let lr, !(lr.isFinite && lr > 0) { throw ValidationError("--lr \(lr) must be positive and finite") }
    }

    func run() throws {
        guard let multiples = HorizonExperiment.cycleMultiples(cycles) else {
            throw ValidationError("--cycles must be numbers in 1...1000 separated by commas, not '\(cycles)'")
        }
        var experiment = HorizonExperiment(model: GPTConfig(vocabSize: vocab, context: 128, d: d, layers: layers, headSize: head))
        try experiment.model.validate()
        (experiment.corpus, experiment.batch, experiment.steps, experiment.lr) = (corpus, batch, steps, lr)
        (experiment.cycles, experiment.evalEvery, experiment.seed) = (multiples, evalEvery, seed)
        let (rows, finals) = try experiment.run { [experiment] m, loss in print(experiment.finishedLine(cycle: m, loss: loss)) }
        HorizonExperiment.penaltyLines(finals).forEach { print($0) }
        try HorizonExperiment.writeCSV(rows, to: out)
        print("wrote \(out)")
    }
}
