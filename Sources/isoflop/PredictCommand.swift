// `isoflop predict`: a sweep's law forecast at a budget beyond it, and, with --train, the
// forecast trained and scored.
import ArgumentParser
import Fit
import Foundation
import Study
import Sweep
import Tensor

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Forecast the compute-optimal model at a new budget from a sweep's runs; --train trains the forecast and scores it.",
        discussion: """
            Approaches 2 and 3 are fitted to the sweep's finished runs of one schedule and give N_opt, D_opt, \
            the steps and the loss at --budget, with 95% bootstrap intervals. With --train, the family shapes \
            nearest to N_opt × each of --sizes are planned as the sweep <name>-predict-<C> in the same store (the \
            sweep's corpus, batch, schedule, LR rule and seeds), trained like any sweep (rerun to resume), and \
            the forecast is scored against them: loss against the best run, N_opt against the vertex of their \
            parabola in ln N, and whether each 95% interval covers the outcome.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var sweepChoice: SweepChoice

    @Option(help: "The budget C in FLOPs to forecast at.")
    var budget: Double

    @Option(help: "Which schedule's runs to fit (default: the sweep's only schedule, else matched).")
    var schedule: String?

    @Option(help: "Multiples of the forecast N_opt to train with --train (the nearest family shapes).")
    var sizes: String = "0.5,1,2"

    @Option(help: "Whose N_opt the trained shapes are centred on: approach 2 (the default: its forecasts held best one budget out on pydocs and gcide, docs/predicting.md) or 3.")
    var centre: Int = 2

    @Flag(help: "Train the forecast optimum and its neighbours, then score the forecast.")
    var train = false

    @Option(help: "Worker processes for --train (default: the sweep's).")
    var workers: Int?

    @OptionGroup var resampling: BootstrapOptions<ReportResamples>

    func validate() throws {
        guard budget.isFinite, budget > 0, budget <= maximumFLOPs else {
            throw ValidationError("--budget must be a finite positive number of FLOPs up to \(formatFLOPs(maximumFLOPs)), not \(budget)")
        }
        guard parsedSizes != nil else {
            throw ValidationError("--sizes must be positive, finite multiples separated by commas, not '\(sizes)'")
        }
        guard [2, 3].contains(centre) else { throw ValidationError("--centre must be 2 or 3, not \(centre)") }
        if let workers { try checkWorkerCount(workers, flag: "--workers") }
    }

    private var parsedSizes: [Double]? {
        let values = sizes.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 && $0!.isFinite && $0! <= 1e6 }) else { return nil }
        return values.map { $0! }
    }

    func run() throws {
        let url = try storeOptions.required()
        var request = PredictionRequest(budget: budget)
        request.schedule = schedule
        request.sizes = parsedSizes!
        request.centre = centre
        request.bootstrap = resampling.bootstrap
        request.seed = resampling.seed
        request.progress = resampling.bootstrap >= 200 ? ProgressLine.report : nil
        let p = try planPrediction(url, sweep: try sweepChoice.sweep, request: request)
        print(predictionText(p, budget: budget, resamples: resampling.bootstrap, sizes: sizes, workers: workers ?? p.config.workers))
        guard train else { return }
        var options = TrainOptions()
        options.workers = workers
        print(renderScore(try trainPrediction(p, store: url, options: options, hooks: ProgressView.hooks())))
    }
}
