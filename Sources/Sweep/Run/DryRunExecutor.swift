// A stand-in trainer for exercising the sweep machinery without training: it takes the time a
// run would take (scaled down), logs a loss from the Chinchilla parametric fit, checkpoints
// its step and resumes from it, all through Training's run loop. `isoflop sweep run --dry-run`
// uses it.
import Foundation
import Training

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

    public func execute(_ run: PlannedRun, checkpointDirectory: String, log: MetricSink,
                        shouldStop: () -> Bool) throws -> RunOutcome {
        let folder = CheckpointFolder(checkpointDirectory)
        try folder.recover()
        var start = folder.hasCheckpoint ? folder : run.startingCheckpoint(checkpointDirectory)
        try start?.recover()
        if let s = start, !s.hasCheckpoint { start = nil }
        let ownSteps = Double(max(run.steps - run.firstTrainedStep, 1))
        let pretend = try PretendTraining(run, stepSeconds: throughput.seconds(run) / ownSteps / max(speedup, 1e-9),
                                          resumingFrom: start?.path)
        let resultSteps = log.resultSteps
        var hooks = RunHooks(evalEvery: run.evalEvery, evaluateAt: resultSteps, checkpointEvery: run.checkpointEvery,
                             checkpoints: folder)
        hooks.writeBranchStarts(for: log)
        hooks.onStep = { s in
            try log.log(MetricRow(run: 0, step: s.result.step, tokens: s.result.tokens,
                                  flops: Double(s.result.tokens) * run.flopsPerToken, lr: s.result.lr,
                                  trainLoss: s.result.loss, evalLoss: s.evalLoss))
            if resultSteps.contains(s.result.step) {
                try log.record(.done(finalTrainLoss: s.result.loss, finalEvalLoss: s.evalLoss,
                                     tokensPerSecond: Double(s.result.tokens) / max(pretend.state.seconds, 1e-9)),
                               after: s.result.step)
            }
        }
        hooks.beforeCheckpoint = { try log.flush() }
        let end = try pretend.run(hooks, shouldStop: shouldStop)
        try log.flush()
        return RunOutcome(end, finalTrainLoss: pretend.last, tokensPerSecond: Double(run.tokens) / max(pretend.state.seconds, 1e-9))
    }
}

/// A run that takes the time a training run would (scaled down) and reports the losses of
/// `DryRunExecutor.loss`; its checkpoint is its step and the seconds it has spent.
final class PretendTraining: TrainingRun {
    struct State: Codable {
        var step: Int
        var seconds: Double
    }

    let run: PlannedRun
    let stepSeconds: Double
    private(set) var state = State(step: 0, seconds: 0)
    private(set) var last = 0.0
    private let started = Date()
    private let startSeconds: Double

    init(_ run: PlannedRun, stepSeconds: Double, resumingFrom dir: String?) throws {
        self.run = run
        self.stepSeconds = stepSeconds
        if let dir, let data = FileManager.default.contents(atPath: dir + "/state.json") {
            state = try JSONDecoder().decode(State.self, from: data)
        }
        startSeconds = state.seconds
    }

    var step: Int { state.step }
    var totalSteps: Int { run.steps }

    func trainStep() throws -> StepResult {
        let t0 = Date()
        state.step += 1
        let tokens = state.step * run.batchSize * run.model.context
        last = DryRunExecutor.loss(parameters: run.parameters, tokens: tokens, step: state.step)
        let spare = stepSeconds - Date().timeIntervalSince(t0)
        if spare > 0 { usleep(UInt32(spare * 1e6)) }
        state.seconds = startSeconds + Date().timeIntervalSince(started)
        return StepResult(step: state.step, loss: last, lr: run.peakLR, gradNorm: 0, tokens: tokens)
    }

    func evaluate() -> Double {
        DryRunExecutor.loss(parameters: run.parameters, tokens: state.step * run.batchSize * run.model.context, step: 0)
    }

    func saveCheckpoint(to dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try JSONEncoder().encode(state).write(to: URL(fileURLWithPath: dir + "/state.json"), options: .atomic)
    }
}
