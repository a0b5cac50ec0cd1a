// What a ladder found, rung by rung: each rung's config delta, approaches 2 and 3 under its own
// counting with bootstrap intervals, and N_opt per budget; written as ladder.json.
import Fit
import Foundation
import Model
import Sweep
import Tensor

/// One rung's result.
public struct LadderRungResult: Codable, Equatable, Sendable {
    public var index: Int
    public var name: String
    public var label: String?
    /// The sweep of the rung in the store.
    public var sweep: String
    /// The keys this rung changes from the previous one, in config syntax.
    public var delta: [String: String]
    /// The counting its fits use: C (the planner's and the fit's) and N.
    public var flopCount: FLOPCount
    public var params: ParameterConvention
    public var schedule: String
    /// Runs of the rung, those that ended, and those whose result was copied from another rung.
    public var runs: Int
    public var finished: Int
    public var copied: Int
    /// N_opt ∝ C^a, D_opt ∝ C^b, with 95% bootstrap intervals (nil where the approach could not fit).
    public var approach2A: Estimate?
    public var approach2B: Estimate?
    public var approach3A: Estimate?
    public var approach3B: Estimate?
    public var approach2Optima: [Optimum]
    public var approach3Optima: [Optimum]
    public var notes: [String]

    /// The rung's result from its fit report (approaches 2 and 3).
    public init(index: Int, rung: RungChange, config: SweepConfig, runs: Int, finished: Int, copied: Int, fit: FitReport?) {
        self.index = index
        name = rung.name
        label = rung.label
        sweep = config.name
        delta = rung.delta
        flopCount = config.flopCount
        params = config.params
        schedule = config.schedules.first?.rawValue ?? ""
        self.runs = runs
        self.finished = finished
        self.copied = copied
        let exponents = fit?.exponents ?? []
        approach2A = exponents.first { $0.approach == 2 }?.a
        approach2B = exponents.first { $0.approach == 2 }?.b
        approach3A = exponents.first { $0.approach == 3 }?.a
        approach3B = exponents.first { $0.approach == 3 }?.b
        // N and D only, as ladder.json has always had them.
        approach2Optima = (fit?.approach2?.includedProfiles ?? []).map {
            Optimum(budget: $0.budget, parameters: $0.optimalParameters, tokens: $0.optimalTokens)
        }
        approach3Optima = (fit?.approach3?.allocations ?? []).map {
            Optimum(budget: $0.budget, parameters: $0.parameters, tokens: $0.tokens)
        }
        notes = fit?.notes ?? []
    }
}

/// ladder.json: the ladder's name, its rungs' results, and what the run sharing saved.
public struct LadderSummary: Codable, Equatable, Sendable {
    public var name: String
    public var bootstrapResamples: Int
    public var rungs: [LadderRungResult]
    /// Runs planned over all rungs, and the distinct trainings among them.
    public var plannedRuns: Int
    public var distinctTrainings: Int

    public init(name: String, bootstrapResamples: Int, rungs: [LadderRungResult], plannedRuns: Int, distinctTrainings: Int) {
        self.name = name
        self.bootstrapResamples = bootstrapResamples
        self.rungs = rungs
        self.plannedRuns = plannedRuns
        self.distinctTrainings = distinctTrainings
    }

    /// Pretty, sorted-key JSON; non-finite numbers as "nan", "inf", "-inf" (as the fits write them).
    public func encodedJSON() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(self)
    }
}

/// The fit options of one rung: approaches 2 and 3 under the rung's N, with `resamples`
/// residual-bootstrap resamples.
public func rungFitOptions(_ config: SweepConfig, resamples: Int) -> FitOptions {
    var options = FitOptions()
    options.approaches = [2, 3]
    options.convention = config.params
    options.bootstrapResamples = resamples
    return options
}
