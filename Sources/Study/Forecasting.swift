// A sweep's law asked about a budget nobody has trained: the forecast of approaches 2 and 3
// there, the family shapes that would test it (planned as "<name>-predict-<C>" in the same store),
// their training through the one driver, and the forecast scored against them.
import Fit
import Foundation
import Sweep
import Tensor
import Training

/// What `predict` is asked.
public struct PredictionRequest {
    /// The budget C in FLOPs to forecast at.
    public var budget: Double
    /// The schedule whose runs are fitted; nil: the sweep's only one, else matched.
    public var schedule: String?
    /// Multiples of the centred N_opt to train (the nearest family shapes).
    public var sizes: [Double] = [0.5, 1, 2]
    /// Whose N_opt the trained shapes are centred on: approach 2 or 3.
    public var centre = 2
    public var bootstrap = 200
    public var seed: UInt64 = 0
    /// Hears the bootstrap's progress (resamples done, of all) on long fits.
    public var progress: (@Sendable (Int, Int) -> Void)?

    public init(budget: Double) { self.budget = budget }
}

/// The forecast at one budget and the sweep that would train it.
public struct PredictionPlan {
    /// The sweep the law was fitted to.
    public var sweep: String
    public var schedule: ScheduleKind
    /// The runs the law was fitted to.
    public var fittedRuns: Int
    public var fit: FitReport
    /// One per approach, at the requested budget.
    public var forecasts: [Forecast]
    /// The forecast whose N_opt the trained shapes are centred on.
    public var centred: Forecast
    /// "<sweep>-predict-<C>": the centred shapes at the budget, with the sweep's everything else.
    public var config: SweepConfig
    public var plan: SweepPlan
    /// Tokens per optimiser step (batch × context), to turn D into steps.
    public var tokensPerStep: Double { Double(config.batch * config.context) }
}

/// The schedule fitted when none is named: a sweep's only one (a ladder's rungs have one each),
/// else matched.
public func defaultSchedule(_ schedules: [String]) -> String {
    schedules.count == 1 ? schedules[0] : "matched"
}

/// Fits approaches 2 and 3 to the finished runs of one schedule of the sweep at `url` (`sweep`,
/// else the store's only sweep, its pilots and forecast aside: `RunStore.selectSweep`),
/// forecasts `request.budget`, and plans the family shapes nearest to the centred N_opt × each
/// of `request.sizes` there. Nothing is written.
public func planPrediction(_ url: String, sweep: String?, request: PredictionRequest) throws -> PredictionPlan {
    let results = try readResults(url, sweep: sweep)
    let scheduleName = request.schedule ?? defaultSchedule(results.schedules)
    guard let kind = ScheduleKind(rawValue: scheduleName), kind != .fixed else {
        throw StudyError.unpredictableSchedule(scheduleName)
    }
    let config = try storedConfig(url, sweep: results.name)
    let runs = try fitRuns(results, schedule: scheduleName, source: url)
    var options = FitOptions()
    options.approaches = [2, 3]
    options.forecastBudgets = [request.budget]
    options.allocationBudgets = []
    options.holdout = false
    options.bootstrapResamples = request.bootstrap
    options.seed = request.seed
    options.convention = results.params
    options.progress = request.progress
    let fit = try fitScalingLaws(runs, options: options)
    let forecasts = fit.forecasts ?? []
    guard let centred = forecasts.first(where: { $0.approach == request.centre }) ?? forecasts.first else {
        throw StudyError.noForecast(budget: request.budget)
    }
    let shapes = try Prediction.nearestShapes(config, targets: request.sizes.map { $0 * centred.parameters.value })
    let predicted = Prediction.config(config, budget: request.budget, schedule: kind, shapes: shapes)
    try predicted.validate(file: "\(redactedStoreURL(url)) (sweep \(predicted.name))")
    return PredictionPlan(sweep: results.name, schedule: kind, fittedRuns: runs.count, fit: fit, forecasts: forecasts,
                          centred: centred, config: predicted, plan: try Planner.plan(predicted))
}

/// Seconds the forecast's runs take on `workers` workers: the config's throughput model, else
/// this machine's measured rate.
public func estimatedSeconds(_ p: PredictionPlan, workers: Int) -> Double {
    let rate = planThroughput(p.config, runs: p.plan.runs)
    return estimateWallSeconds(p.plan.runs.map(rate.seconds), workers: workers)
}

/// Plans the forecast's sweep into the store beside its parent, trains it as `sweep run` does
/// (rerunning resumes it), and scores the forecasts against its finished runs.
public func trainPrediction(_ p: PredictionPlan, store url: String, options: TrainOptions, hooks: TrainHooks) throws -> PredictionScore {
    try runSweep(p.config, store: url, options: options, hooks: hooks)
    let trained = try readResults(url, sweep: p.config.name)
    let runs = try fitRuns(trained, schedule: p.schedule.rawValue, source: url)
    guard let score = scorePrediction(p.forecasts, runs: runs, convention: trained.params) else {
        throw StudyError.noFinishedRuns(source: url, sweep: p.config.name, schedule: p.schedule.rawValue)
    }
    return score
}

/// The results of `parent`'s forecast sweeps ("<parent>-predict-<C>", one per budget) in the
/// store at `url` that have finished runs, in the store's order. The report scores the parent's
/// law at each one's budget against its runs.
public func predictionResults(_ url: String, parent: String) throws -> [SweepResults] {
    let store = try openExistingStore(url)
    return try store.sweepNames().filter { Prediction.isForecast($0, of: parent) }
        .map { try store.results(sweep: $0, withCurves: false) }
        .filter { !$0.finishedRuns().isEmpty }
}
