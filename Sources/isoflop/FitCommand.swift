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
        guard bootstrap >= 0, bootstrap <= 1_000_000 else { throw ValidationError("--bootstrap must be in 0...1000000, not \(bootstrap)") }
        if let optimumAt, parseBudgets(optimumAt) == nil {
            throw ValidationError("--optimum-at must be positive numbers separated by commas, not '\(optimumAt)'")
        }
    }

    func run() throws {
        let runs: [FitRun]
        if let url = try storeOptions.resolved() {
            if let input, input != url { throw ValidationError("give either a CSV/store argument or --store, not both") }
            runs = try loadStoreRuns(from: url, schedule: schedule)
        } else if let input {
            runs = try loadRuns(from: input, schedule: schedule)
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
/// schedule, with its training curve for approach 1) or a CSV of runs.
func loadRuns(from path: String, schedule: String) throws -> [FitRun] {
    looksLikeStore(path) ? try loadStoreRuns(from: path, schedule: schedule) : try readRunsCSV(path: path)
}

/// Every finished run of one schedule in a sweep store, with its eval-loss curve.
func loadStoreRuns(from path: String, schedule: String) throws -> [FitRun] {
    let store = try openExistingStore(path)
    var runs: [FitRun] = []
    for name in try store.sweepNames() {
        guard let sweep = try store.sweepID(named: name) else { continue }
        for r in try store.runs(sweep: sweep) where r.status == .done && r.plan.schedule.rawValue == schedule {
            guard let loss = r.finalEvalLoss ?? r.finalTrainLoss else { continue }
            let curve = try store.metrics(run: r.id).compactMap { m -> CurvePoint? in
                guard let l = m.evalLoss else { return nil }
                return CurvePoint(flops: m.flops, tokens: Double(m.tokens), loss: l)
            }
            runs.append(FitRun(id: "\(name)/\(r.plan.key)", budget: r.plan.budget,
                               parameters: Double(r.plan.parameters),
                               nonEmbeddingParameters: Double(r.plan.nonEmbeddingParameters),
                               tokens: Double(r.plan.tokens), flops: r.plan.flops, finalLoss: loss,
                               schedule: schedule, curve: curve))
        }
    }
    guard !runs.isEmpty else { throw CLIError("\(path): no finished runs with schedule '\(schedule)'") }
    return runs
}

private func parseBudgets(_ text: String) -> [Double]? {
    let values = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
    guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
    return values.map { $0! }
}
