// `isoflop tune CONFIG`: the learning-rate pilot. Trains every shape of the config's smallest
// budgets at a few multiples of its rule's peak LR (a sweep "<name>-tune" in the same store, so
// it resumes), finds each shape's best LR and fits the rule's intercept, width and steps terms.
import ArgumentParser
import Fit
import Foundation
import Sweep
import Tensor
import Training

struct TuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Fit the config's peak-LR rule with a pilot sweep of its smallest budgets; --write puts it into the config.",
        discussion: """
            Every shape of the smallest budgets is trained at each multiplier of the rule's peak LR \
            (before its clipping); a shape whose best LR is the smallest or largest tried gets one more \
            step beyond it. Each shape's best ln lr is the vertex of the parabola through its best LR \
            and the two beside it; ln lr = c + w·ln(d/128) + s·ln(steps/300) (+ the config's batch \
            term) is fitted to them by least squares.
            """)

    @Argument(help: "Sweep config (TOML).") var config: String
    @Option(help: "How many of the config's smallest budgets the pilot trains (two or more separate the width and steps terms).")
    var budgets: Int = 2
    @Option(help: ArgumentHelp("Multipliers of the rule's peak LR, comma-separated (at least 3).", valueName: "list"))
    var multipliers: String = "0.5,1,2"
    @Flag(inversion: .prefixedNo, help: "Train more multipliers beyond an edge where a shape's best LR is the smallest or largest tried.")
    var extend = true
    @Option(help: "The most multipliers added beyond each edge, one per round, until a shape's best LR lies inside those tried.")
    var maxExtensions: Int = 3
    @Flag(help: "Write the fitted intercept, width and steps into the config's [lr] table (comments and all else kept).")
    var write = false
    @Option(help: "The schedule piloted: matched (fits [lr]) or wsd (measures lr_wsd_multiplier against [lr]).")
    var schedule: ScheduleKind = .matched
    @Option(help: ArgumentHelp("Also write the trials, best LRs and fitted rule as JSON here.", valueName: "path"))
    var json: String?
    @OptionGroup var store: StoreOptions
    @Option(help: "Worker processes (default: the config's).") var workers: Int?
    @Option(help: "Folder for the runs' checkpoints (default: checkpoints beside an SQLite store).") var checkpoints: String?

    func validate() throws {
        guard (1...1000).contains(budgets) else { throw ValidationError("--budgets \(budgets) must be in 1...1000") }
        guard (0...10).contains(maxExtensions) else { throw ValidationError("--max-extensions \(maxExtensions) must be in 0...10") }
        _ = try parsedMultipliers()
        if let workers { try checkWorkerCount(workers, flag: "--workers") }
    }

    func parsedMultipliers() throws -> [Double] {
        let parts = multipliers.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        var out: [Double] = []
        for p in parts {
            guard let v = Double(p), v.isFinite, v > 0, v <= 1e3 else {
                throw ValidationError("--multipliers: '\(p)' must be a positive number up to 1000")
            }
            out.append(v)
        }
        guard Set(out).count == out.count, out.count >= 3 else {
            throw ValidationError("--multipliers \(multipliers) must name at least 3 different multipliers")
        }
        return out.sorted()
    }

    func run() throws {
        let cfg = try SweepConfig.load(path: config)
        if write, config.hasSuffix(".json") {
            throw CLIError("\(config): --write edits TOML configs; put the rule into its \"lr\" object by hand")
        }
        let original = write ? try readConfigText() : ""
        guard schedule == .matched || (schedule == .wsd && !write) else {
            throw ValidationError("--schedule \(schedule.rawValue): tune pilots matched (with --write) or wsd (without --write)")
        }
        let pilot = try LRPilot.config(cfg, budgets: budgets, schedule: schedule)
        let mults = try parsedMultipliers()
        let url = try store.resolved() ?? defaultStorePath(cfg)
        let checkpoints = try checkpointFolder(self.checkpoints, store: url)
        try checkCheckpointOwner(checkpoints, store: url)
        try prepareSweepData(pilot)
        var runs = try LRPilot.runs(pilot, multipliers: mults)
        try checkSweepInputs(pilot, runs: runs)
        print("tune \(cfg.name): \(runs.count) runs in sweep \(pilot.name) of \(url): budgets "
              + Set(runs.map(\.budget)).sorted().map(formatFLOPs).joined(separator: ", ")
              + ", LR × " + mults.map { String(format: "%g", $0) }.joined(separator: ", ") + " of the rule")

        let (store, sweep) = try planPilot(pilot, runs: runs, url: url)
        try markCheckpointOwner(checkpoints, store: store)
        var options = try SweepRunOptions.parse(workers.map { ["--workers", "\($0)"] } ?? [])
        options.checkpoints = checkpoints
        let began = Date()
        try runSweep(pilot, sweep: sweep, store: store, url: url, checkpoints: checkpoints, options: options)

        var best = try bestLRs(store.runs(sweep: sweep))
        // Rounds of one more multiplier beyond each edge where a shape is still best, up to
        // --max-extensions beyond the multipliers asked for on that side: a rerun of this command
        // counts the ones an earlier run added, so it trains nothing new once every shape is done.
        for _ in 0..<(extend ? maxExtensions : 0) {
            let more = try extensions(best, store.runs(sweep: sweep), pilot: pilot, asked: mults)
            guard !more.isEmpty else { break }
            print("\(more.count) shape(s) had their best LR at an edge; training one more multiplier beyond it")
            _ = try store.addRuns(sweep: sweep, runs: more)
            runs += more
            try runSweep(pilot, sweep: sweep, store: store, url: url, checkpoints: checkpoints, options: options)
            best = try bestLRs(store.runs(sweep: sweep))
        }
        let fit = try fitLRRule(best.map(\.best), batchTerm: cfg.lr.batchTerm(batch: cfg.batch))
        print(tuneTable(best, fit: fit, config: cfg))
        if schedule == .wsd {
            let m = LRPilot.impliedMultiplier(best.map { (d: $0.best.d, steps: $0.best.steps, lnLR: $0.best.lnLR) }, config: cfg)
            print(String(format: "wsd: best rates at %.3g × the [lr] rule's on average: lr_wsd_multiplier = %.3g (the config has %.3g)",
                         m, m, cfg.lrWSDMultiplier))
        }
        print(String(format: "pilot: %d runs, %@", try store.runs(sweep: sweep).count, formatDuration(Date().timeIntervalSince(began))))
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let out = TuneResult(best: best.map(\.best), rule: fit, previous: [cfg.lr.intercept, cfg.lr.width, cfg.lr.steps])
            try encoder.encode(out).write(to: URL(fileURLWithPath: json))
            print("wrote \(json)")
        }
        if write {
            try LRRuleFile.write(intercept: fit.intercept, width: fit.width, steps: fit.steps, to: config, startedFrom: original)
            print("wrote the rule into \(config)'s [lr] table")
        } else {
            print("(rerun with --write to put it into \(config); the pilot's runs are kept and not trained again)")
        }
    }

    /// One run beyond the edge for every shape whose best LR is at an edge of those tried and
    /// that has fewer than `maxExtensions` multipliers beyond `asked` on that side.
    func extensions(_ best: [PilotShape], _ stored: [RunRecord], pilot: SweepConfig, asked: [Double]) -> [PlannedRun] {
        var more: [PlannedRun] = []
        for b in best where b.edge != nil {
            let members = stored.filter { LRPilot.baseKey($0.plan.key) == b.key }
            let tried = members.map { LRPilot.multiplier(of: $0.plan, config: pilot) }
            guard let base = members.first?.plan, tried.count >= 2, Set(tried).count == tried.count else { continue }
            let beyond = b.edge == .low ? tried.filter { $0 < asked[0] * (1 - 1e-6) }
                                        : tried.filter { $0 > asked[asked.count - 1] * (1 + 1e-6) }
            guard beyond.count < maxExtensions else { continue }
            let m = LRPilot.beyondEdge(tried, low: b.edge == .low)
            guard !tried.contains(where: { abs($0 / m - 1) < 1e-6 }) else { continue }
            var plain = base
            plain.key = b.key
            more.append(LRPilot.run(plain, config: pilot, multiplier: m))
        }
        return more
    }

    func readConfigText() throws -> String {
        guard let data = FileManager.default.contents(atPath: config), let text = String(data: data, encoding: .utf8) else {
            throw CLIError("\(config): cannot read the config as UTF-8 text")
        }
        return text
    }

    /// Creates the pilot sweep, or adds to the stored one the runs it lacks (a rerun with other
    /// multipliers; one extended earlier keeps its extra runs).
    func planPilot(_ pilot: SweepConfig, runs: [PlannedRun], url: String) throws -> (RunStore, Int64) {
        let folder = (storePath(url) as NSString).deletingLastPathComponent
        if isSQLiteStore(url), !folder.isEmpty {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        let store = try openRunStore(url)
        if let id = try store.sweepID(named: pilot.name) {
            _ = try store.addRuns(sweep: id, runs: runs)
            return (store, id)
        }
        return (store, try store.createSweep(name: pilot.name, configJSON: try pilot.storedJSON(), runs: runs))
    }
}

/// A shape's best LR with the key of its pilot runs (without the multiplier).
struct PilotShape {
    var key: String
    var best: BestLR
    var edge: LREdge? { best.edge }
}

/// Each shape's best LR from the pilot's ended runs (diverged ones count as infinitely bad).
func bestLRs(_ records: [RunRecord]) throws -> [PilotShape] {
    var byShape: [String: [LRTrial]] = [:]
    var order: [String] = []
    for r in records where r.status == .done || r.status == .diverged {
        let key = LRPilot.baseKey(r.plan.key)
        let loss = r.status == .done ? (r.finalEvalLoss ?? r.finalTrainLoss ?? .infinity) : .infinity
        if byShape[key] == nil { order.append(key) }
        byShape[key, default: []].append(LRTrial(budget: r.plan.budget, d: r.plan.model.d, layers: r.plan.model.layers,
                                                 headSize: r.plan.model.headSize, steps: r.plan.steps, lr: r.plan.peakLR, loss: loss))
    }
    return try order.map { PilotShape(key: $0, best: try bestLearningRate(byShape[$0]!)) }
        .sorted { ($0.best.budget, $0.best.d, $0.best.layers) < ($1.best.budget, $1.best.d, $1.best.layers) }
}

/// What `tune --json` writes.
struct TuneResult: Codable {
    var best: [BestLR]
    var rule: LRRuleFit
    /// The config's intercept, width and steps before the pilot.
    var previous: [Double]
}

/// The pilot's table: per shape the losses at each LR, the best LR, the config's rule and the
/// fitted one; then the fitted rule beside the config's.
func tuneTable(_ shapes: [PilotShape], fit: LRRuleFit, config: SweepConfig) -> String {
    var out = "budget  shape             steps  losses at the LRs tried                          best lr   rule lr   fitted   residual\n"
    for (s, residual) in zip(shapes, fit.residuals) {
        let b = s.best
        let trials = b.trials.map { t in
            String(format: "%.2e:", t.lr) + (t.loss.isFinite ? String(format: "%.3f", t.loss) : "diverged")
        }.joined(separator: " ")
        let rule = config.lr.peak(d: b.d, steps: b.steps, batch: config.batch)
        out += pad(formatFLOPs(b.budget), -7) + " " + pad("d=\(b.d) L=\(b.layers) h=\(b.headSize)", -17)
            + String(format: " %5d  ", b.steps) + pad(trials, -48)
            + String(format: " %.2e%@ %.2e  %.2e  %+.3f", exp(b.lnLR), b.edge == nil ? " " : "*", rule,
                     exp(fit.lnLR(d: b.d, steps: b.steps)), residual) + "\n"
    }
    if shapes.contains(where: { $0.edge != nil }) {
        out += "* best at the edge of the LRs tried: the true best may lie beyond it\n"
    }
    out += String(format: "fitted:  ln lr = %.3f %+.3f·ln(d/128) %+.3f·ln(steps/300) %+.3f (batch %d); residuals rms %.3f over %d shapes\n",
                  fit.intercept, fit.width, fit.steps, fit.batchTerm, config.batch, fit.rms, shapes.count)
    out += String(format: "config:  ln lr = %.3f %+.3f·ln(d/128) %+.3f·ln(steps/300) %+.3f",
                  config.lr.intercept, config.lr.width, config.lr.steps, fit.batchTerm)
    return out
}
