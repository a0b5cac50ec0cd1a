// `isoflop fit`: compute-optimal scaling laws from a sweep's runs (Chinchilla approaches 1, 2, 3).
import ArgumentParser
import Fit
import Foundation
import Study
import Tensor

struct FitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit",
        abstract: "Fit N_opt ∝ C^a and D_opt ∝ C^b to a sweep's runs (Chinchilla approaches 1, 2 and 3).",
        discussion: """
            The input is a CSV with columns N (all parameters), D (tokens) and loss, found by header \
            name; optional columns C (FLOPs used), N_nonemb, budget, schedule and id. Without a budget \
            column, runs within 10% of each other in C form one budget. Approaches 1 and 2 need \
            isoFLOP budgets (at least 3 with 3 or more sizes each); approach 3 fits any points. \
            Runs of the same N and D in one budget are seeds of one shape: the fits use their median \
            (or mean, --seeds mean).
            """)

    /// --approach: one approach or all three.
    enum Approaches: String, ExpressibleByArgument, CaseIterable {
        case one = "1", two = "2", three = "3", all

        var list: [Int] { self == .all ? [1, 2, 3] : [Int(rawValue)!] }
    }

    /// --params: which count of N, or both.
    enum Params: String, ExpressibleByArgument, CaseIterable {
        case total, nonemb, both

        var conventions: [ParameterConvention] { self == .total ? [.total] : self == .nonemb ? [.nonEmbedding] : [.total, .nonEmbedding] }
    }

    @Argument(help: "A CSV of runs, or a sweep store (same as --store).")
    var input: String?

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var sweepChoice: SweepChoice

    @Option(help: "Which schedule's runs to fit (matched, fixed, constant, wsd; default: the sweep's only schedule, else matched).")
    var schedule: String?

    @Option(help: "Which approach: 1, 2, 3 or all.")
    var approach: Approaches = .all

    @Option(help: "How N counts parameters: total, nonemb, or both (default: a sweep store's `params` when it says nonemb; else both when every run has N_nonemb, else total).")
    var params: Params?

    @OptionGroup var resampling: BootstrapOptions<ReportResamples>

    @Option(name: .customLong("bootstrap-method"),
            help: "How approaches 2 and 3 resample: residuals (fixed design: each run keeps N and D, its loss gets a resampled residual) or runs (runs drawn with replacement within each budget, and seeds within each shape).")
    var bootstrapMethod: BootstrapMethod = .residuals

    @Option(help: "Approach 3's solver: varpro (variable projection), lbfgs (L-BFGS from Chinchilla's 4,500 starts; far slower), or both (VarPro's headline and bootstrap, the L-BFGS grid's fit beside it as a cross-check). Both minimise the same Huber objective.")
    var solver: Approach3Solver = .varpro

    @Option(help: "How several seeds of one shape combine: median or mean.")
    var seeds: SeedAggregate = .median

    @Option(help: "Write the results as JSON to this file.")
    var json: String?

    @Option(help: "Comma-separated budgets in FLOPs at which to give approach 3's optimal N, D and tokens per parameter, with intervals (default: the isoFLOP budgets).")
    var optimumAt: String?

    @Option(name: .customLong("forecast-at"), help: "Comma-separated budgets in FLOPs beyond the runs at which to forecast the optimum: N_opt, D_opt and the loss there from approaches 2 and 3, with intervals (`isoflop predict` does this for a store and can train it).")
    var forecastAt: String?

    @Option(help: "What approach 2's loss frontier L_min(C) is fitted through: each budget's best run (best) or its parabola's minimum (vertex).")
    var frontier: FrontierPoints = .bestRuns

    @Option(help: "How approach 3 weighs the runs: runs (each run once) or budgets (each budget once, shared by its runs).")
    var weighting: Approach3Weighting = .runs

    @Option(name: .customLong("huber-delta"), help: "Approach 3's Huber δ on the residuals of log loss (Hoffmann et al.: 1e-3; large values make it least squares).")
    var huberDelta: Double = 1e-3

    @Option(name: .customLong("min-steps"), help: "Leave out runs of fewer optimizer steps than this (the early transient); needs a steps column in a CSV.")
    var minSteps: Int = 0

    @Flag(name: .customLong("no-holdout"), help: "Skip the held-out check (with 4 budgets or more, the fit is redone without the largest one and two budgets, and its forecasts there are set beside the runs).")
    var noHoldout = false

    @Flag(help: "Time approach 3's two solvers on one thread on the same data (the input, or 240 synthetic points of the Chinchilla shape), with --bootstrap refits (default 1000); VarPro's fit and refits on every thread, as a fit runs; and VarPro on 100,000 points.")
    var benchmark = false

    func validate() throws {
        guard minSteps >= 0 else { throw ValidationError("--min-steps must not be negative, not \(minSteps)") }
        guard huberDelta.isFinite, huberDelta > 0 else { throw ValidationError("--huber-delta must be a positive number, not \(huberDelta)") }
        if let optimumAt, parseBudgets(optimumAt) == nil {
            throw ValidationError("--optimum-at must be finite positive budgets up to \(formatFLOPs(maximumFLOPs)) separated by commas, not '\(optimumAt)'")
        }
        if let forecastAt, parseBudgets(forecastAt) == nil {
            throw ValidationError("--forecast-at must be finite positive budgets up to \(formatFLOPs(maximumFLOPs)) separated by commas, not '\(forecastAt)'")
        }
    }

    func run() throws {
        if benchmark { return try runBenchmark() }
        let (runs, sweepParams) = try readInput()
        var options = FitOptions()
        options.approaches = approach.list
        // The held-out check needs intervals, so a fit resamples by default; on a very large input
        // the default falls to point estimates (each resample refits every row) unless asked.
        let automatic = resampling.bootstrap == ReportResamples.resamples && !CommandLine.arguments.contains { $0 == "--bootstrap" || $0.hasPrefix("--bootstrap=") }
        options.bootstrapResamples = automatic && runs.count > 20_000 ? 0 : resampling.bootstrap
        if options.bootstrapResamples != resampling.bootstrap {
            FileHandle.standardError.write("fit: \(runs.count) rows, so no bootstrap by default; --bootstrap N resamples anyway\n".data(using: .utf8)!)
        }
        options.bootstrapMethod = bootstrapMethod
        options.solver = solver
        options.seeds = seeds
        options.seed = resampling.seed
        options.allocationBudgets = optimumAt.flatMap(parseBudgets)
        options.forecastBudgets = forecastAt.flatMap(parseBudgets) ?? []
        options.frontier = frontier
        options.holdout = !noHoldout
        options.approach3.delta = huberDelta
        options.approach3.weighting = weighting
        options.minimumSteps = minSteps
        // Long fits (many resamples or many points) say what they are doing as they go.
        let long = options.bootstrapResamples >= 200 || runs.count >= 20_000
        options.progress = long ? ProgressLine.report : nil
        options.stage = long ? ProgressLine.stage : nil
        let reports = try fitScalingLaws(runs, options: options,
                                         conventions: parameterConventions(asked: params?.conventions, sweep: sweepParams, runs: runs))
        print(renderTable(reports), terminator: "")
        if let json {
            try encodeJSON(reports).write(to: URL(fileURLWithPath: json))
            print("wrote \(json)")
        }
    }

    /// The one place that reads the fitter's input: a sweep store (every finished run of one
    /// schedule of one sweep, with its training curve for approach 1, and the sweep's `params`
    /// knob) or a CSV of runs.
    private func readInput() throws -> (runs: [FitRun], params: ParameterConvention?) {
        let url: String
        if let store = try storeOptions.resolved() {
            if let input, input != store { throw ValidationError("give either a CSV/store argument or --store, not both") }
            url = store
        } else if let input {
            guard looksLikeStore(input) else {
                do { return (try csvFitRuns(input, schedule: schedule), nil) } catch let e as StudyError { throw ValidationError(e.description) }
            }
            url = input
        } else {
            throw ValidationError("name a sweep store with --store URL, or a CSV of runs")
        }
        let fitInput = try storeFitInput(url, sweep: sweepChoice.sweep, schedule: schedule)
        if let note = fitInput.note { print("note: \(note)") }
        return (fitInput.runs, fitInput.params)
    }

    /// `--benchmark`: both solvers on the same data, one thread, and the ratio of their times.
    private func runBenchmark() throws {
        let hasInput = try input != nil || storeOptions.resolved() != nil
        let runs = hasInput ? try readInput().runs : chinchillaShapedPoints()
        try reportApproach3Benchmark(runs, synthetic: !hasInput, resamples: resampling.bootstrap > 0 ? resampling.bootstrap : 1000) { print($0) }
    }
}

/// A bootstrap's progress on one terminal line (stderr), at most a few times a second.
enum ProgressLine {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var last = Date.distantPast

    static let report: @Sendable (Int, Int) -> Void = { done, total in
        lock.lock()
        defer { lock.unlock() }
        guard done == total || Date().timeIntervalSince(last) > 0.25 else { return }
        last = Date()
        FileHandle.standardError.write("\rbootstrap \(done)/\(total)\(done == total ? "\n" : "")".data(using: .utf8)!)
    }

    static let stage: @Sendable (String) -> Void = { text in
        FileHandle.standardError.write("fit: \(text)\n".data(using: .utf8)!)
    }
}

extension BootstrapMethod: ExpressibleByArgument {}
extension Approach3Solver: ExpressibleByArgument {}
extension SeedAggregate: ExpressibleByArgument {}
extension FrontierPoints: ExpressibleByArgument {}
extension Approach3Weighting: ExpressibleByArgument {}
