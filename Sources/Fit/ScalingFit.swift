// The fitter's front door: approaches 1, 2 and 3 on a set of runs under one parameter convention,
// with bootstrap intervals, collected in a Codable report.
import Foundation
import Tensor

/// Published values of a (N_opt ∝ C^a) to print beside ours.
public enum PublishedExponents {
    /// Hoffmann et al. 2022, table 2: approaches 1, 2 and 3.
    public static let chinchilla: [Int: Double] = [1: 0.50, 2: 0.49, 3: 0.46]
    /// Kaplan et al. 2020 (non-embedding parameters).
    public static let kaplan = 0.73
}

/// Which solver fits approach 3. Both minimise the same objective, Chinchilla's Huber loss on log
/// loss (see VarPro.swift); they differ in how they search.
public enum Approach3Solver: String, Codable, CaseIterable, Sendable {
    /// Variable projection: (E, A, B) solved exactly for each (α, β), a 2-D search.
    case varpro
    /// L-BFGS in (log A, log B, log E, α, β) from Hoffmann et al.'s grid of 4,500 starts.
    case lbfgs
    /// VarPro for the headline and its bootstrap, the L-BFGS grid's point fit beside it.
    case both
}

public struct FitOptions: Sendable {
    /// Which approaches to run (1, 2, 3).
    public var approaches: [Int] = [1, 2, 3]
    public var convention: ParameterConvention = .total
    /// Bootstrap resamples; 0 gives point estimates only.
    public var bootstrapResamples = 0
    /// How approaches 2 and 3 draw resamples (approach 1 always resamples runs).
    public var bootstrapMethod = BootstrapMethod.residuals
    public var seed: UInt64 = 0
    public var solver = Approach3Solver.varpro
    public var approach3 = Approach3Options()
    public var varpro = VarProOptions()
    /// How several seeds of one shape in one budget are combined.
    public var seeds = SeedAggregate.median
    public var envelopeGridPoints = 200
    /// Budgets at which approach 3's optimal allocation is tabulated; nil: the runs' budgets.
    public var allocationBudgets: [Double]? = nil
    /// Budgets at which approaches 2 and 3 forecast the optimum (N, D and loss, with intervals).
    public var forecastBudgets: [Double] = []
    /// Which loss per budget approach 2's loss frontier L_min(C) is fitted through.
    public var frontier = FrontierPoints.bestRuns
    /// Runs that took fewer optimizer steps than this are left out (the early transient: a short
    /// run is still leaving the loss plateau of its first few hundred steps); 0 keeps every run.
    /// Runs whose steps are unknown are kept.
    public var minimumSteps = 0
    /// Whether to test the fit's own forecasts by refitting without the largest budgets (needs 4
    /// isoFLOP budgets or more).
    public var holdout = true
    public var threads = ProcessInfo.processInfo.activeProcessorCount
    /// Called from any thread with (resamples done, resamples in all) as a bootstrap proceeds.
    public var progress: (@Sendable (Int, Int) -> Void)? = nil
    /// Called as each stage of a long fit starts (an approach, a held-out refit), for people.
    public var stage: (@Sendable (String) -> Void)? = nil

    public init() {}
}

/// a and b of one approach, with the published a beside them.
public struct ExponentSummary: Codable, Equatable, Sendable {
    public var approach: Int
    public var a: Estimate
    public var b: Estimate
    /// Resamples whose refit succeeded (of `FitReport.bootstrapResamples`).
    public var bootstrapUsed: Int
    public var chinchillaA: Double
    public var kaplanA: Double
}

/// The compute-optimal model at one budget, as one approach puts it: N, D and, where the
/// approach gives one, the loss there.
public struct Optimum: Codable, Equatable, Sendable {
    public var budget: Double
    public var parameters: Double
    public var tokens: Double
    public var loss: Double?

    public init(budget: Double, parameters: Double, tokens: Double, loss: Double? = nil) {
        self.budget = budget
        self.parameters = parameters
        self.tokens = tokens
        self.loss = loss
    }
}

/// Approach 3's optimum at one budget, with 95% bootstrap intervals.
public struct Allocation: Codable, Equatable, Sendable {
    public var budget: Double
    public var parameters: Double
    public var tokens: Double
    public var tokensPerParameter: Double
    public var parametersInterval95: Interval?
    public var tokensInterval95: Interval?
}

/// The other solver's point fit of approach 3, shown beside the headline.
public struct Approach3Comparison: Codable, Equatable, Sendable {
    public var solver: Approach3Solver
    public var law: ParametricLaw
    public var objective: Double
    public var seconds: Double
    public var detail: String
}

public struct Approach3Summary: Codable, Equatable, Sendable {
    public var E: Estimate
    public var A: Estimate
    public var B: Estimate
    public var alpha: Estimate
    public var beta: Estimate
    public var law: ParametricLaw
    /// The solver behind the headline values and their intervals.
    public var solver: Approach3Solver
    /// The Huber objective at the best fit.
    public var objective: Double
    /// Wall seconds of the point fit.
    public var seconds: Double
    /// Grid, starts and evaluations, for people.
    public var detail: String
    public var comparison: Approach3Comparison?
    /// Pearson correlation of α and β over the bootstrap refits.
    public var alphaBetaCorrelation: Double?
    /// k in C = k N D, the geometric mean of C / (N D) over the runs (6 when C is unknown), used
    /// for the allocations.
    public var flopsPerParameterToken: Double
    public var allocations: [Allocation]
    /// The Huber δ of the objective (nil in reports written before it was recorded: 1e-3).
    public var huberDelta: Double? = nil
}

public struct FitReport: Codable, Equatable, Sendable {
    public var convention: ParameterConvention
    /// Points fitted (one per shape and budget when shapes have several seeds) and runs read.
    public var runs: Int
    public var points: Int?
    /// The isoFLOP budgets of approaches 1 and 2 (empty when the runs have none).
    public var budgets: [Double]
    public var bootstrapResamples: Int
    /// How approaches 2 and 3 drew their resamples (nil in reports written before it was recorded).
    public var bootstrapMethod: BootstrapMethod?
    public var seed: UInt64
    /// One row per approach that ran, in approach order.
    public var exponents: [ExponentSummary]
    public var approach1: Approach1Fit?
    public var approach2: Approach2Fit?
    /// Is approach 2's ln N_opt straight in ln C?
    public var curvature: CurvatureTest?
    public var approach3: Approach3Summary?
    /// How seeds were combined, and each multi-seed shape's spread.
    public var seedAggregate: SeedAggregate?
    public var seedSpreads: [SeedSpread]?
    /// Approaches skipped, budgets left out and warnings, for people.
    public var notes: [String]
    /// Seeds stuck on the early plateau, left out of their shape's loss (nil when none).
    public var plateauRuns: [PlateauRun]? = nil
    /// Approaches 2 and 3's forecasts at `FitOptions.forecastBudgets` (nil when none was asked).
    public var forecasts: [Forecast]? = nil
    /// The fit's test of its own forecasts on its largest budgets (nil with fewer than 4 budgets).
    public var holdout: HoldoutCheck? = nil

    /// As synthesized, but with the convention by its `reportName`, the spelling fit reports
    /// have always had ("nonEmbedding", where configs say "nonemb").
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(convention.reportName, forKey: .convention)
        try c.encode(runs, forKey: .runs)
        try c.encodeIfPresent(points, forKey: .points)
        try c.encode(budgets, forKey: .budgets)
        try c.encode(bootstrapResamples, forKey: .bootstrapResamples)
        try c.encodeIfPresent(bootstrapMethod, forKey: .bootstrapMethod)
        try c.encode(seed, forKey: .seed)
        try c.encode(exponents, forKey: .exponents)
        try c.encodeIfPresent(approach1, forKey: .approach1)
        try c.encodeIfPresent(approach2, forKey: .approach2)
        try c.encodeIfPresent(curvature, forKey: .curvature)
        try c.encodeIfPresent(approach3, forKey: .approach3)
        try c.encodeIfPresent(seedAggregate, forKey: .seedAggregate)
        try c.encodeIfPresent(seedSpreads, forKey: .seedSpreads)
        try c.encode(notes, forKey: .notes)
        try c.encodeIfPresent(plateauRuns, forKey: .plateauRuns)
        try c.encodeIfPresent(forecasts, forKey: .forecasts)
        try c.encodeIfPresent(holdout, forKey: .holdout)
    }
}

/// Fits the requested approaches to `runs` under `options.convention`. Approaches 1 and 2 need
/// isoFLOP groups (3 budgets of 3 sizes or more); approach 3 fits any (N, D, loss) points. With
/// several approaches asked for, one that cannot be fitted is skipped with a note; alone, it throws.
public func fitScalingLaws(_ given: [FitRun], options: FitOptions = FitOptions()) throws -> FitReport {
    let runs = given.filter { ($0.steps ?? Int.max) >= options.minimumSteps }
    guard !runs.isEmpty else { throw FitError.allRunsTooShort(minimumSteps: options.minimumSteps, runs: given.count) }
    try validateRuns(runs, convention: options.convention)
    let context = FitContext(runs: runs, options: options)
    var report = FitReport(convention: options.convention, runs: runs.count, points: context.points.count, budgets: [],
                           bootstrapResamples: context.resamples, bootstrapMethod: options.bootstrapMethod, seed: options.seed,
                           exponents: [], approach1: nil, approach2: nil, curvature: nil, approach3: nil,
                           seedAggregate: context.seeds.hasSeeds ? options.seeds : nil,
                           seedSpreads: context.seeds.hasSeeds ? context.seeds.spreads : nil, notes: [])
    if runs.count < given.count {
        report.notes.append("\(given.count - runs.count) of \(given.count) runs took fewer than \(options.minimumSteps) steps "
            + "and are left out (the early transient; --min-steps 0 keeps them)")
    }
    if context.seeds.hasSeeds {
        let shapes = context.seeds.members.filter { $0.count > 1 }.count
        report.notes.append("\(shapes) shapes have several seeds; each enters the fits as the \(options.seeds.rawValue) of its seeds"
            + (context.resamples > 0 && options.bootstrapMethod == .runs ? ", and the bootstrap redraws the seeds within each shape" : ""))
    }
    if !context.seeds.plateau.isEmpty {
        report.plateauRuns = context.seeds.plateau
        report.notes += context.seeds.plateau.map(\.description)
    }
    let alone = options.approaches.count == 1
    var skipped: [FitError] = []
    func attempt(_ approach: Int, _ body: () throws -> Void) throws {
        guard options.approaches.contains(approach) else { return }
        options.stage?("approach \(approach) on \(context.points.count) points")
        do { try body() } catch let error as FitError where !alone {
            report.notes.append("approach \(approach) skipped: \(error)")
            skipped.append(error)
        }
    }
    let isoFLOP = Result { try isoFLOPGroups(context.points) }
    if case .success(let g) = isoFLOP {
        report.budgets = g.groups.map(\.budget)
        if !g.leftOut.isEmpty && options.approaches.contains(where: { $0 < 3 }) {
            report.notes.append("approaches 1 and 2: budgets with fewer than 3 sizes left out: "
                + g.leftOut.map { formatFLOPs($0.budget) }.joined(separator: ", "))
        }
    }
    try attempt(1) { try summarizeApproach1(context, groups: try isoFLOP.get().groups, into: &report) }
    try attempt(2) { try summarizeApproach2(context, groups: try isoFLOP.get().groups, into: &report) }
    try attempt(3) { try summarizeApproach3(context, into: &report) }
    // Every approach asked for was skipped: the fit has no result, which is an error, not a table
    // (approach 3's reason last, as it is the one that fits any points).
    if report.exponents.isEmpty, let last = skipped.last { throw last }
    try checkFinite(report)
    if options.holdout, case .success(let g) = isoFLOP, g.groups.count >= 4, options.approaches.contains(where: { $0 >= 2 }) {
        // Every run measures the left-out budgets' best, short ones included; the refits drop them again.
        report.holdout = holdoutCheck(given, groups: g.groups.map(\.budget), full: report, options: options)
    }
    return report
}

/// A fit whose headline numbers are not finite says so rather than printing "inf" and "nan".
private func checkFinite(_ report: FitReport) throws {
    for row in report.exponents where !(row.a.value.isFinite && row.b.value.isFinite) {
        throw FitError.nonFiniteResult(approach: row.approach, what: "exponent (a = \(row.a.value), b = \(row.b.value))")
    }
    for a in report.approach3?.allocations ?? [] where !(a.parameters.isFinite && a.tokens.isFinite && a.parameters > 0) {
        throw FitError.nonFiniteResult(approach: 3, what: "optimum at C = \(formatFLOPs(a.budget))")
    }
    for f in report.forecasts ?? [] where !(f.parameters.value.isFinite && f.tokens.value.isFinite) {
        throw FitError.nonFiniteResult(approach: f.approach, what: "forecast at C = \(formatFLOPs(f.budget))")
    }
}

/// Each approach's N_opt ∝ C^a and D_opt ∝ C^b as power laws (approach 3's from its parametric
/// law under C = k N D); nil when that approach did not run.
public func optimalPowerLaws(_ report: FitReport, approach: Int) -> (parameters: PowerLaw, tokens: PowerLaw)? {
    switch approach {
    case 1: return report.approach1.map { ($0.optimalParameters, $0.optimalTokens) }
    case 2: return report.approach2.map { ($0.optimalParameters, $0.optimalTokens) }
    case 3: return report.approach3.map { $0.law.optimalPowerLaws(flopsPerParameterToken: $0.flopsPerParameterToken) }
    default: return nil
    }
}

/// JSON for programs. Non-finite numbers (a parabola with no minimum) are written as the strings
/// "nan", "inf" and "-inf".
public func encodeJSON(_ reports: [FitReport]) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return try encoder.encode(reports)
}

/// Reads back what `encodeJSON` wrote.
public func decodeJSON(_ data: Data) throws -> [FitReport] {
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return try decoder.decode([FitReport].self, from: data)
}

/// One fit per count of N in `conventions` (in that order), each with `options` otherwise.
public func fitScalingLaws(_ runs: [FitRun], options: FitOptions, conventions: [ParameterConvention]) throws -> [FitReport] {
    var options = options
    return try conventions.map { convention in
        options.convention = convention
        return try fitScalingLaws(runs, options: options)
    }
}
