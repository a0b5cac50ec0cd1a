// A stand-in trainer for exercising the sweep machinery without training: it takes the time a
// run would take (scaled down), logs a loss from the Chinchilla parametric fit, checkpoints
// its step and resumes from it. `isoflop sweep run --dry-run` uses it.
import Foundation

public struct DryRunExecutor: RunExecutor {
    public var throughput: ThroughputModel
    /// How many times faster than the throughput model the pretend training runs.
    public var speedup: Double

    public init(throughput: ThroughputModel, speedup: Double) {
        self.throughput = throughput
        self.speedup = speedup
    }

    /// L(N, D) = E + A / N^α + B / D^β, the form of Hoffmann et al. 2022 (Approach 3) with its
    /// exponents and E, and A, B scaled down so tiny models land at 2.5–4 nats; plus a small
    /// deterministic wiggle per step so curves are not perfectly smooth.
    public static func loss(parameters: Int, tokens: Int, step: Int) -> Double {
        let base = 1.69 + 40 / pow(Double(parameters), 0.34) + 60 / pow(Double(max(tokens, 1)), 0.28)
        let wiggle = 0.01 * sin(Double(step) * 12.9898 + Double(parameters).truncatingRemainder(dividingBy: 97))
        return base + wiggle
    }

    struct Checkpoint: Codable {
        var step: Int
        var seconds: Double
    }

    public func execute(_ run: PlannedRun, checkpointDirectory: String, log: MetricSink,
                        shouldStop: () -> Bool) throws -> RunOutcome {
        let file = (checkpointDirectory as NSString).appendingPathComponent("dry-run.json")
        var state = Checkpoint(step: 0, seconds: 0)
        if let data = FileManager.default.contents(atPath: file) {
            state = try JSONDecoder().decode(Checkpoint.self, from: data)
        }
        func checkpoint() throws {
            try JSONEncoder().encode(state).write(to: URL(fileURLWithPath: file), options: .atomic)
            try log.flush()
        }
        let tokensPerStep = run.batchSize * run.model.context
        let stepSeconds = throughput.seconds(run) / Double(max(run.steps, 1)) / max(speedup, 1e-9)
        var last = 0.0
        let started = Date()
        let startSeconds = state.seconds
        while state.step < run.steps {
            if shouldStop() {
                try checkpoint()
                return .stopped
            }
            let t0 = Date()
            state.step += 1
            let tokens = state.step * tokensPerStep
            last = Self.loss(parameters: run.parameters, tokens: tokens, step: state.step)
            let eval = state.step % max(run.evalEvery, 1) == 0 || state.step == run.steps
                ? Self.loss(parameters: run.parameters, tokens: tokens, step: 0) : nil
            try log.log(MetricRow(run: 0, step: state.step, tokens: tokens, flops: Double(tokens) * run.flopsPerToken,
                                  lr: run.peakLR, trainLoss: last, evalLoss: eval))
            let spare = stepSeconds - Date().timeIntervalSince(t0)
            if spare > 0 { usleep(UInt32(spare * 1e6)) }
            state.seconds = startSeconds + Date().timeIntervalSince(started)
            if state.step % max(run.checkpointEvery, 1) == 0 { try checkpoint() }
        }
        let finalEval = Self.loss(parameters: run.parameters, tokens: run.tokens, step: 0)
        return .done(finalTrainLoss: last, finalEvalLoss: finalEval,
                     tokensPerSecond: Double(run.tokens) / max(state.seconds, 1e-9))
    }
}
