// `isoflop fit`: compute-optimal scaling laws from a sweep's runs (Chinchilla approaches 1, 2, 3).
import ArgumentParser
import Fit
import Foundation
import Sweep

struct FitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit",
        abstract: "Fit N_opt ∝ C^a and D_opt ∝ C^b to a sweep's runs (Chinchilla approaches 1, 2 and 3).",
        discussion: """
            The input is a CSV with columns N (all parameters), D (tokens), C (FLOPs used) and loss, \
            found by header name; optional columns N_nonemb, budget, schedule and id. Without a budget \
            column, runs within 10% of each other in C form one budget.
            """)

    @Argument(help: "A CSV of runs, or a sweep store (same as --store).")
    var input: String?

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var sweepChoice: SweepChoice

    @Option(help: "With a sweep store: which schedule's runs to fit (matched, fixed, constant, wsd).")
    var schedule: String = "matched"

    @Option(help: "Which approach: 1, 2, 3 or all.")
    var approach: String = "all"

    @Option(help: "How N counts parameters: total, nonemb, or both (default: both when every run has N_nonemb, else total).")
    var params: String?

    @Option(help: "Bootstrap resamples for 80% and 95% intervals (0: point estimates only).")
    var bootstrap: Int = 0

    @Option(name: .customLong("bootstrap-method"),
            help: "How approaches 2 and 3 resample: residuals (fixed design: each run keeps N and D, its loss gets a resampled residual) or runs (runs drawn with replacement within each budget).")
    var bootstrapMethod: String = "residuals"

    @Option(help: "Write the results as JSON to this file.")
    var json: String?

    @Option(help: "Seed of the bootstrap resamples.")
    var seed: UInt64 = 0

    @Option(help: "Comma-separated budgets in FLOPs at which to give approach 3's optimal N, D and tokens per parameter (default: the sweep's budgets).")
    var optimumAt: String?

    func validate() throws {
        guard ["1", "2", "3", "all"].contains(approach) else {
            throw ValidationError("--approach must be 1, 2, 3 or all, not '\(approach)'")
        }
        if let params, !["total", "nonemb", "both"].contains(params) {
            throw ValidationError("--params must be total, nonemb or both, not '\(params)'")
        }
        guard BootstrapMethod(rawValue: bootstrapMethod) != nil else {
            throw ValidationError("--bootstrap-method must be residuals or runs, not '\(bootstrapMethod)'")
        }
        guard bootstrap >= 0 else { throw ValidationError("--bootstrap must be 0 or more, not \(bootstrap)") }
        if let optimumAt, parseBudgets(optimumAt) == nil {
            throw ValidationError("--optimum-at must be positive numbers separated by commas, not '\(optimumAt)'")
        }
    }

    func run() throws {
        let runs: [FitRun]
        if let url = try storeOptions.resolved() {
            if let input, input != url { throw ValidationError("give either a CSV/store argument or --store, not both") }
            runs = try loadStoreRuns(from: url, schedule: schedule, sweep: sweepChoice.sweep)
        } else if let input {
            runs = try loadRuns(from: input, schedule: schedule, sweep: sweepChoice.sweep)
        } else {
            throw ValidationError("name a sweep store with --store URL, or a CSV of runs")
        }
        var options = FitOptions()
        options.approaches = approach == "all" ? [1, 2, 3] : [Int(approach)!]
        options.bootstrapResamples = bootstrap
        options.bootstrapMethod = BootstrapMethod(rawValue: bootstrapMethod)!
        options.seed = seed
        options.allocationBudgets = optimumAt.flatMap(parseBudgets)
        let conventions: [ParameterConvention]
        switch params {
        case "total": conventions = [.total]
        case "nonemb": conventions = [.nonEmbedding]
        case "both": conventions = [.total, .nonEmbedding]
        default: conventions = runs.allSatisfy { $0.nonEmbeddingParameters != nil } ? [.total, .nonEmbedding] : [.total]
        }
        var reports: [FitReport] = []
        for convention in conventions {
            options.convention = convention
            reports.append(try fitScalingLaws(runs, options: options))
        }
        print(renderTable(reports), terminator: "")
        if let json {
            try encodeJSON(reports).write(to: URL(fileURLWithPath: json))
            print("wrote \(json)")
        }
    }
}

/// The one place that reads the fitter's input: a sweep store (every finished run of one
/// schedule of one sweep, with its training curve for approach 1) or a CSV of runs. A CSV with a
/// schedule column (such as `isoflop export --runs` writes) gives the runs of `schedule` only.
func loadRuns(from path: String, schedule: String, sweep: String?) throws -> [FitRun] {
    if looksLikeStore(path) { return try loadStoreRuns(from: path, schedule: schedule, sweep: sweep) }
    let runs = try readRunsCSV(path: path)
    let schedules = Set(runs.compactMap(\.schedule))
    guard !schedules.isEmpty else { return runs }
    let chosen = runs.filter { $0.schedule == schedule }
    guard !chosen.isEmpty else {
        throw ValidationError("\(path): no runs with schedule '\(schedule)' (the file has \(schedules.sorted().joined(separator: ", "))); choose one with --schedule")
    }
    return chosen
}

/// Every finished run of one schedule of a sweep in a store, with its eval-loss curve.
func loadStoreRuns(from path: String, schedule: String, sweep: String?) throws -> [FitRun] {
    try fitRuns(try readResults(path, sweep: sweep), schedule: schedule, source: path)
}

private func parseBudgets(_ text: String) -> [Double]? {
    let values = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
    guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
    return values.map { $0! }
}
