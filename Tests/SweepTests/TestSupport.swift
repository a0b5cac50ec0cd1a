// Shared helpers for the Sweep tests: temporary folders, a small sweep config, and a test
// double of the trainer whose "loss" is a deterministic chain that survives checkpoints.
import Foundation
import Model
import Sweep
import Training

func temporaryDirectory(_ name: String = #function) -> String {
    let dir = (NSTemporaryDirectory() as NSString)
        .appendingPathComponent("sweep-tests-\(name.filter { $0.isLetter })-\(UUID().uuidString.prefix(8))")
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// A sweep config of two tiny shapes (d = 16 and 32, one layer) at every budget.
func tinyConfig(budgets: [Double] = [1e10, 2e10, 3e10], schedules: [ScheduleKind] = [.matched, .fixed],
                checkpointEvery: Int = 20) -> SweepConfig {
    var config = SweepConfig(name: "t", corpus: "c", trainTokens: "train", evalTokens: "eval", tokenizer: "tok",
                             vocab: 512, budgets: budgets, family: FamilyConfig(widths: [32], shapes: [ShapeSpec(d: 16, L: 1, head: 16)]),
                             batch: 8)
    config.schedules = schedules
    config.grid = GridConfig(sizes: 3, width: 1000)
    config.checkpointEvery = checkpointEvery
    return config
}

/// The smallest sweep config in TOML that decodes (one budget, two widths, two shapes per
/// budget), with `extra` lines at the top level and `grid` lines in its `[grid]` table.
func minimalTOML(_ extra: String = "", grid: String = "") -> String {
    """
    name = "s"
    corpus = "pydocs"
    train_tokens = "t"
    eval_tokens = "e"
    tokenizer = "k"
    vocab = 512
    budgets = [3e11]
    batch = 8
    \(extra)
    [family]
    widths = [32, 64]
    [grid]
    sizes = 2
    \(grid)
    """
}

/// A sweep of tiny shapes whose runs are then shortened to `steps` each so the tests run fast,
/// every run trained on its own (none read from a shared run).
func smallPlan(budgets: [Double] = [1e10, 2e10, 3e10], schedules: [ScheduleKind] = [.matched, .fixed],
               steps: Int = 60, checkpointEvery: Int = 20) throws -> [PlannedRun] {
    var runs = try Planner.plan(tinyConfig(budgets: budgets, schedules: schedules, checkpointEvery: checkpointEvery)).runs
    for i in runs.indices {
        runs[i].steps = steps + i
        runs[i].sharedFrom = nil
    }
    return runs
}

/// Token files of a seeded chain over 512 ids (each id followed by one of four others), so
/// the tiny models have something to learn; written to `dir`.
func chainTokenFiles(_ dir: String) throws -> (train: String, eval: String) {
    var state: UInt64 = 12_345
    var token = 0
    func chain(_ count: Int) -> Data {
        var tokens = [UInt16]()
        tokens.reserveCapacity(count)
        for _ in 0..<count {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            token = (token * 7 + Int(state >> 62) * 31 + 1) % 512
            tokens.append(UInt16(token).littleEndian)
        }
        return tokens.withUnsafeBufferPointer { Data(buffer: $0) }
    }
    let paths = (dir + "/train.u16", dir + "/eval.u16")
    try chain(100_000).write(to: URL(fileURLWithPath: paths.0))
    try chain(20_000).write(to: URL(fileURLWithPath: paths.1))
    return paths
}

struct SimulatedCrash: Error {}

/// Trains nothing: each step advances a 64-bit LCG state from which the loss is read, so a
/// run resumed from a checkpoint reproduces the uninterrupted losses exactly only if the
/// checkpointed state and step are right. Checkpoints every `run.checkpointEvery` steps.
struct CounterExecutor: RunExecutor {
    /// Throws after this step (without checkpointing), as a killed process would stop.
    var crashAfter: Int? = nil
    /// Runs whose key contains this string diverge at step 5.
    var divergeKey: String? = nil
    /// Microseconds of pretend work per step.
    var stepMicroseconds: UInt32 = 0

    static func advance(_ state: UInt64, step: Int) -> UInt64 { state &* 6364136223846793005 &+ UInt64(2 * step + 1) }
    static func loss(_ state: UInt64) -> Double { 2 + Double(state >> 40) / Double(1 << 24) }

    func execute(_ run: PlannedRun, checkpointDirectory: String, log: MetricSink,
                 shouldStop: () -> Bool) throws -> RunOutcome {
        let file = (checkpointDirectory as NSString).appendingPathComponent("counter.txt")
        var step = 0
        var state = UInt64(run.seed)
        if let text = try? String(contentsOfFile: file, encoding: .utf8) {
            let parts = text.split(separator: " ")
            step = Int(parts[0])!
            state = UInt64(parts[1])!
        }
        func checkpoint() throws {
            try "\(step) \(state)".write(toFile: file, atomically: true, encoding: .utf8)
            try log.flush()
        }
        var last = 0.0
        // "Evaluates" where the run loop would: its eval loss is −(train loss).
        let evaluates = RunHooks(evalEvery: run.evalEvery, evaluateAt: log.resultSteps)
        while step < run.steps {
            if shouldStop() {
                try checkpoint()
                return .stopped
            }
            step += 1
            state = Self.advance(state, step: step)
            last = Self.loss(state)
            if let divergeKey, run.key.contains(divergeKey), step == 5 { return .diverged(step: step, loss: .nan) }
            if stepMicroseconds > 0 { usleep(stepMicroseconds) }
            try log.log(MetricRow(run: 0, step: step, tokens: step * run.batchSize * run.model.context,
                                  flops: Double(step * run.batchSize * run.model.context) * run.flopsPerToken,
                                  lr: run.peakLR, trainLoss: last, evalLoss: evaluates.evaluates(after: step, of: run.steps) ? -last : nil))
            if log.resultSteps.contains(step) {
                try log.record(.done(finalTrainLoss: last, finalEvalLoss: -last, tokensPerSecond: 1), after: step)
            }
            if step % run.checkpointEvery == 0 { try checkpoint() }
            if let crashAfter, step == crashAfter { throw SimulatedCrash() }
        }
        return .done(finalTrainLoss: last, finalEvalLoss: -last, tokensPerSecond: 1)
    }

    /// The losses an uninterrupted run produces.
    static func expectedLosses(_ run: PlannedRun) -> [Double] {
        var state = UInt64(run.seed)
        return (1...run.steps).map { step in
            state = advance(state, step: step)
            return loss(state)
        }
    }
}

/// Keeps every row in memory; for driving an executor outside a worker.
final class StoreSink: MetricSink {
    let store: RunStore
    let run: Int64
    var rows: [MetricRow] = []
    init(store: RunStore, run: Int64) { self.store = store; self.run = run }
    func log(_ row: MetricRow) throws { var r = row; r.run = run; rows.append(r) }
    func flush() throws { try store.appendMetrics(rows); rows.removeAll() }
}
