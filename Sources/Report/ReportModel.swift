// The plain values the HTML report is drawn from. The tool fills them from the run store's
// records and the fitter's results (their `MetricRow`, `Estimate`, `Optimum`, `IsoFLOPProfile` and
// `EnvelopePoint` types are used as they are).
import Fit
import Foundation

extension Estimate {
    /// "0.51 [0.45, 0.57]": the value and its 95% interval (the value twice without one).
    public func formatted(digits: Int = 2) -> String {
        let f = { (v: Double) in String(format: "%.\(digits)f", v) }
        return "\(f(value)) [\(f(interval95?.lower ?? value)), \(f(interval95?.upper ?? value))]"
    }
}

/// Final loss of one run of an IsoFLOP profile.
public struct IsoFLOPPoint: Equatable, Sendable {
    public var budget: Double
    public var parameters: Double
    public var loss: Double

    public init(budget: Double, parameters: Double, loss: Double) {
        self.budget = budget
        self.parameters = parameters
        self.loss = loss
    }
}

/// One approach's result: optional per-budget optima and the fitted power laws
/// N_opt = nCoefficient · C^a and D_opt = dCoefficient · C^b.
public struct ApproachResult: Sendable {
    /// "Approach 1", "Approach 2", "Approach 3".
    public var name: String
    public var optima: [Optimum]
    public var a: Estimate
    public var nCoefficient: Double
    public var b: Estimate
    public var dCoefficient: Double

    public init(name: String, optima: [Optimum] = [], a: Estimate, nCoefficient: Double, b: Estimate, dCoefficient: Double) {
        self.name = name
        self.optima = optima
        self.a = a
        self.nCoefficient = nCoefficient
        self.b = b
        self.dCoefficient = dCoefficient
    }

    public func optimalParameters(budget c: Double) -> Double { nCoefficient * pow(c, a.value) }
    public func optimalTokens(budget c: Double) -> Double { dCoefficient * pow(c, b.value) }
}

/// Everything measured and fitted for one schedule ("matched", "fixed", …).
public struct ScheduleResult: Sendable {
    public var schedule: String
    public var points: [IsoFLOPPoint]
    /// Approach 2's profiles that entered its fit, each with its parabola in ln N and minimum.
    public var parabolas: [IsoFLOPProfile]
    public var approaches: [ApproachResult]
    /// Approach 1's lower envelope of the eval-loss curves, as the fit read it (empty without one).
    public var envelope: [EnvelopePoint] = []
    /// The fit's test of its own forecasts at its largest budgets (nil with fewer than 4 budgets).
    public var holdout: HoldoutCheck? = nil
    /// The full fit's forecast at the budget of each trained forecast ("<sweep>-predict-<C>"),
    /// scored against those runs, smallest budget first.
    public var predictions: [PredictionScore] = []

    public init(schedule: String, points: [IsoFLOPPoint], parabolas: [IsoFLOPProfile], approaches: [ApproachResult]) {
        self.schedule = schedule
        self.points = points
        self.parabolas = parabolas
        self.approaches = approaches
    }
}

/// Loss against steps of one run of the horizon experiment (a cosine cycle `cycle` times its
/// steps: 1, 1.5, 2, 5).
public struct HorizonCurve: Sendable {
    public var cycle: Double
    public var steps: [Double]
    public var loss: [Double]

    public init(cycle: Double, steps: [Double], loss: [Double]) {
        self.cycle = cycle
        self.steps = steps
        self.loss = loss
    }
}

/// Everything the report shows.
public struct ReportModel: Sendable {
    public var title: String
    /// Lines of context shown under the title (machine, corpus, wall time, counting convention).
    public var notes: [String]
    public var schedules: [ScheduleResult]
    public var curves: [RunCurve]
    public var horizon: [HorizonCurve]
    /// Every run of the sweep, whatever its state, as the runs table lists it.
    public var runs: [RunsTableRow]
    /// Weight of the debiased EMA applied to the training curves before plotting.
    public var curveSmoothing: Double
    /// When the page was written; shown on it.
    public var written: Date?
    /// While runs are still to come (status planned or running), the page reloads itself every
    /// this many seconds; a finished sweep's page never does.
    public var refreshSeconds: Int?
    /// The learning-rate pilot's shapes (`isoflop tune`), drawn as figure 5 when there are any.
    public var lrCurves: [LRCurve] = []

    public init(title: String = "isoflop report", notes: [String] = [], schedules: [ScheduleResult] = [],
                curves: [RunCurve] = [], horizon: [HorizonCurve] = [], runs: [RunsTableRow] = [],
                curveSmoothing: Double = 0.8, written: Date? = nil, refreshSeconds: Int? = nil) {
        self.title = title
        self.notes = notes
        self.schedules = schedules
        self.curves = curves
        self.horizon = horizon
        self.runs = runs
        self.curveSmoothing = curveSmoothing
        self.written = written
        self.refreshSeconds = refreshSeconds
    }

    /// Runs still to come: planned or running.
    public var pendingRuns: [RunsTableRow] { runs.filter { $0.status == "planned" || $0.status == "running" } }

}
