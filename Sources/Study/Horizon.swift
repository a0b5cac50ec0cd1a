// The horizon experiment (Hoffmann et al. 2022, Figure A1): one shape trained for a fixed number
// of steps under cosine cycles longer than the run, to measure what a cycle that does not match
// the training horizon costs.
import Corpus
import Foundation
import Model
import Sweep
import Tokenizer
import Training

public struct HorizonExperiment {
    public var model: GPTConfig
    public var corpus = "pydocs"
    public var batch = 8
    public var steps = 3000
    /// The peak LR; nil: the sweep's rule for this width and run length.
    public var lr: Double?
    /// Cycle lengths as multiples of the run's steps.
    public var cycles: [Double] = [1, 1.5, 2, 5]
    public var evalEvery = 100
    /// The same initialisation and data order for every cycle.
    public var seed: UInt64 = 1

    public init(model: GPTConfig) { self.model = model }

    /// Trains every cycle (two at a time, one per core with one BLAS thread each, each on its own
    /// model, so every curve is the one a lone run gives) and returns the curves as CSV rows
    /// (cycle, step, lr, eval loss) in the order of `cycles`, with each cycle's final eval loss.
    /// `finished` hears of each cycle as it ends.
    public func run(finished: @escaping (Double, Double) -> Void) throws -> (csv: String, finals: [(cycle: Double, loss: Double)]) {
        let data = try prepareCorpus(corpus, vocabSize: model.vocabSize, layout: DataLayout(), threads: 2, progress: nil)
        let train = try TokenFile(path: data.train), validation = try TokenFile(path: data.validation)
        let peak = lr ?? LRRule().peak(d: model.d, steps: steps, batch: batch)
        func trainCycle(_ m: Double) throws -> (csv: String, last: Double) {
            let schedule = LRSchedule(kind: .fixed, peak: peak, totalSteps: steps, cycleSteps: Int((m * Double(steps)).rounded()))
            let config = TrainConfig(model: model, batchSize: batch, steps: steps, schedule: schedule, seed: seed)
            let trainer = try Trainer.open(config: config, resumingFrom: nil, train: train, validation: validation)
            var csv = ""
            var hooks = RunHooks(evalEvery: evalEvery)
            hooks.onStep = { s in
                if let loss = s.evalLoss { csv += "\(m),\(s.result.step),\(s.result.lr),\(loss)\n" }
            }
            let end = try trainer.run(hooks)
            guard case .finished(let last) = end else { throw StudyError.horizonCycle(multiple: m, end: "\(end)") }
            return (csv, last)
        }
        let lock = NSLock()
        var results = [Result<(csv: String, last: Double), Error>?](repeating: nil, count: cycles.count)
        DispatchQueue.concurrentPerform(iterations: cycles.count) { i in
            let r = Result { try trainCycle(cycles[i]) }
            lock.lock()
            results[i] = r
            if case .success(let v) = r { finished(cycles[i], v.last) }
            lock.unlock()
        }
        var csv = ""
        var finals: [(cycle: Double, loss: Double)] = []
        for (m, r) in zip(cycles, results) {
            guard let r else { throw StudyError.horizonCycle(multiple: m, end: "did not run") }
            let v = try r.get()
            csv += v.csv
            finals.append((m, v.last))
        }
        return (csv, finals)
    }
}

extension HorizonExperiment {
    /// Cycle lengths as multiples of the run's steps, separated by commas; nil unless every one
    /// is a number in 1...1000.
    public static func cycleMultiples(_ text: String) -> [Double]? {
        let parsed = text.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
        let multiples = parsed.compactMap { $0 }
        guard !multiples.isEmpty, multiples.count == parsed.count, multiples.allSatisfy({ $0 >= 1 && $0 <= 1000 }) else { return nil }
        return multiples
    }

    /// The line for a cycle as it ends: its multiple, its length in steps and its final eval loss.
    public func finishedLine(cycle m: Double, loss: Double) -> String {
        String(format: "cycle %.1f× (%d steps): final eval loss %.4f", m, Int(m * Double(steps)), loss)
    }

    /// Each longer cycle's final loss against the matched cycle's (1×), when it was trained.
    public static func penaltyLines(_ finals: [(cycle: Double, loss: Double)]) -> [String] {
        guard let base = finals.first(where: { $0.cycle == 1 })?.loss else { return [] }
        return finals.filter { $0.cycle != 1 }.map {
            String(format: "  %.1f× cycle costs %+.4f nats against the matched cycle", $0.cycle, $0.loss - base)
        }
    }

    /// Writes the curves' CSV rows under their header (cycle, step, lr, eval_loss) at `path`,
    /// its folder created.
    public static func writeCSV(_ rows: String, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try ("cycle,step,lr,eval_loss\n" + rows).write(toFile: path, atomically: true, encoding: .utf8)
    }
}
