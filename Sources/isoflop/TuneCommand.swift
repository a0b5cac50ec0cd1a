// `isoflop tune CONFIG`: the learning-rate pilot. Trains every shape of the config's smallest
// budgets at a few multiples of its rule's peak LR (a sweep "<name>-tune" in the same store, so
// it resumes), finds each shape's best LR and fits the rule's intercept, width and steps terms.
import ArgumentParser
import Foundation
import Study
import Sweep
import Tensor
import Training
#if canImport(Glibc)
import Glibc
#endif

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
    @Flag(help: "With --write, write the rule even when its residuals' rms is above 0.3 in ln lr (a fit not to trust).")
    var force = false
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
        var options = PilotOptions()
        options.budgets = budgets
        options.multipliers = try parsedMultipliers()
        options.maxExtensions = extend ? maxExtensions : 0
        options.schedule = schedule
        options.train.workers = workers
        options.train.checkpoints = checkpoints
        options.train.workerReports = isatty(STDOUT_FILENO) == 0
        let began = Date()
        let result = try runPilot(cfg, store: try store.resolved() ?? defaultStoreURL(cfg), options: options, hooks: ProgressView.hooks())
        print(pilotText(result, config: cfg, schedule: schedule))
        print(String(format: "pilot: %d runs, %@", result.runs, formatDuration(Date().timeIntervalSince(began))))
        if let json {
            try TuneResult(result, config: cfg).json().write(to: URL(fileURLWithPath: json))
            print("wrote \(json)")
        }
        try settlePilotRule(result, schedule: schedule, file: config, original: original, write: write, force: force).forEach { print($0) }
    }

    func readConfigText() throws -> String {
        guard let data = FileManager.default.contents(atPath: config), let text = String(data: data, encoding: .utf8) else {
            throw CLIError("\(config): cannot read the config as UTF-8 text")
        }
        return text
    }
}
