// The fitter's front door: approaches 1, 2 and 3 on a set of runs under one parameter convention,
// with bootstrap intervals, collected in a Codable report.
import Foundation

/// Published values of a (N_opt ∝ C^a) to print beside ours.
public enum PublishedExponents {
    /// Hoffmann et al. 2022, table 2: approaches 1, 2 and 3.
    public static let chinchilla: [Int: Double] = [1: 0.50, 2: 0.49, 3: 0.46]
    /// Kaplan et al. 2020 (non-embedding parameters).
    public static let kaplan = 0.73
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
    public var approach3 = Approach3Options()
    public var envelopeGridPoints = 200
    /// Budgets at which approach 3's optimal allocation is tabulated; nil: the sweep's budgets.
    public var allocationBudgets: [Double]? = nil
    public var threads = ProcessInfo.processInfo.activeProcessorCount

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

/// Approach 3's optimum at one budget.
public struct Allocation: Codable, Equatable, Sendable {
    public var budget: Double
    public var parameters: Double
    public var tokens: Double
    public var tokensPerParameter: Double
}

public struct Approach3Summary: Codable, Equatable, Sendable {
    public var E: Estimate
    public var A: Estimate
    public var B: Estimate
    public var alpha: Estimate
    public var beta: Estimate
    public var law: ParametricLaw
    /// The Huber objective at the best fit.
    public var objective: Double
    public var starts: Int
    public var convergedStarts: Int
    /// k in C = k N D, the geometric mean of C / (N D) over the runs, used for the allocations.
    public var flopsPerParameterToken: Double
    public var allocations: [Allocation]
}

public struct FitReport: Codable, Equatable, Sendable {
    public var convention: ParameterConvention
    public var runs: Int
    public var budgets: [Double]
    public var bootstrapResamples: Int
    /// How approaches 2 and 3 drew their resamples (nil in reports written before it was recorded).
    public var bootstrapMethod: BootstrapMethod?
    public var seed: UInt64
    /// One row per approach that ran, in approach order.
    public var exponents: [ExponentSummary]
    public var approach1: Approach1Fit?
    public var approach2: Approach2Fit?
    public var approach3: Approach3Summary?
    /// Approaches skipped and budgets left out, for people.
    public var notes: [String]
}

/// Fits the requested approaches to `runs` under `options.convention`.
/// Throws on invalid runs (see `validateRuns`) and when a requested approach cannot be fitted;
/// approach 1 without any training curve is skipped with a note when other approaches run.
public func fitScalingLaws(_ runs: [FitRun], options: FitOptions = FitOptions()) throws -> FitReport {
    let convention = options.convention
    let groups = try validateRuns(runs, convention: convention)
    let resamples = max(0, options.bootstrapResamples)
    var report = FitReport(convention: convention, runs: runs.count, budgets: groups.map(\.budget),
                           bootstrapResamples: resamples, bootstrapMethod: options.bootstrapMethod, seed: options.seed, exponents: [],
                           approach1: nil, approach2: nil, approach3: nil, notes: [])
    let method = options.bootstrapMethod
    /// Resamples drawn as runs within budgets; `refit` gets each resample's run multiplicities.
    func bootRuns(_ width: Int, _ refit: @escaping ([Double]) throws -> [Double]) -> [[Double]] {
        guard resamples > 0 else { return [[Double]](repeating: [], count: width) }
        return runBootstrap(resamples: resamples, width: width, threads: options.threads) { r in
            try refit(bootstrapWeights(groups: groups, runCount: runs.count, seed: options.seed, index: r))
        }
    }
    /// Fixed-design resamples: `refit` gets `fitted` plus residuals drawn from `pool`.
    func bootResiduals(_ width: Int, fitted: [Double], pool: [Double],
                       _ refit: @escaping ([Double]) throws -> [Double]) -> [[Double]] {
        guard resamples > 0, !pool.isEmpty else { return [[Double]](repeating: [], count: width) }
        return runBootstrap(resamples: resamples, width: width, threads: options.threads) { r in
            try refit(residualResample(fitted: fitted, pool: pool, seed: options.seed, index: r))
        }
    }
    func summary(_ approach: Int, a: Double, b: Double, samples: [[Double]]) -> ExponentSummary {
        ExponentSummary(approach: approach, a: Estimate(value: a, samples: samples[0]), b: Estimate(value: b, samples: samples[1]),
                        bootstrapUsed: samples[0].filter(\.isFinite).count,
                        chinchillaA: PublishedExponents.chinchilla[approach]!, kaplanA: PublishedExponents.kaplan)
    }

    if options.approaches.contains(1) {
        if runs.contains(where: { !$0.curve.isEmpty }) {
            let grid = options.envelopeGridPoints
            let fit = try fitApproach1(runs, convention: convention, gridPoints: grid)
            let samples = bootRuns(2) { w in
                let f = try fitApproach1(runs, convention: convention, weights: w, gridPoints: grid)
                return [f.optimalParameters.exponent, f.optimalTokens.exponent]
            }
            report.approach1 = fit
            report.exponents.append(summary(1, a: fit.optimalParameters.exponent, b: fit.optimalTokens.exponent, samples: samples))
        } else if options.approaches == [1] {
            throw FitError.noTrainingCurves
        } else {
            report.notes.append("approach 1 skipped: the runs have no training curves")
        }
    }

    // With several approaches asked for, one that cannot be fitted (no bracketed budget, no
    // convergence) is noted and the others are still reported.
    if options.approaches.contains(2) {
        do {
            let fit = try fitApproach2(runs, groups: groups, convention: convention)
            let samples: [[Double]]
            switch method {
            case .runs:
                samples = bootRuns(2) { w in
                    let f = try fitApproach2(runs, groups: groups, convention: convention, weights: w)
                    return [f.optimalParameters.exponent, f.optimalTokens.exponent]
                }
            case .residuals:
                let r = approach2Residuals(runs, groups: groups, convention: convention)
                // A budget with only three sizes has no residual freedom (its parabola passes through
                // every point): its runs keep their losses and add nothing to the pool.
                let used = runs.indices.filter { r.leverages[$0] < 1 - 1e-9 }
                let pool = residualPool(used.map { r.residuals[$0] }, leverages: used.map { r.leverages[$0] })
                if pool.isEmpty && resamples > 0 {
                    report.notes.append("approach 2: no budget has more than three sizes, so there are no residuals to resample "
                        + "and no interval; resample runs instead, or plan more sizes per budget")
                }
                samples = bootResiduals(2, fitted: r.fitted, pool: pool) { losses in
                    var synthetic = runs
                    for i in used { synthetic[i].finalLoss = losses[i] }
                    let f = try fitApproach2(synthetic, groups: groups, convention: convention)
                    return [f.optimalParameters.exponent, f.optimalTokens.exponent]
                }
            }
            report.approach2 = fit
            report.notes += fit.warnings.map { "approach 2: " + $0 }
            report.exponents.append(summary(2, a: fit.optimalParameters.exponent, b: fit.optimalTokens.exponent, samples: samples))
        } catch let error as FitError where options.approaches.count > 1 {
            report.notes.append("approach 2 skipped: \(error)")
        }
    }

    if options.approaches.contains(3) {
        do {
            let n = runs.map { $0.parameters(for: convention)! }, d = runs.map(\.tokens), l = runs.map(\.finalLoss)
            var a3 = options.approach3
            a3.threads = options.threads
            let fit = try fitApproach3(parameters: n, tokens: d, losses: l, options: a3)
            // Refits start from the full fit's best distinct endpoints rather than the whole grid:
            // a resample moves the optimum only a little.
            let base = Approach3Objective(parameters: n, tokens: d, losses: l, delta: a3.delta)
            let starts = fit.bestEndpoints, lbfgs = a3.lbfgs
            func refit(_ objective: Approach3Objective) throws -> [Double] {
                guard let best = minimizeFromStarts(objective, starts: starts, options: lbfgs, threads: 1).first else {
                    throw FitError.noConvergence(approach: 3)
                }
                let law = ParametricLaw(theta: best.theta)
                return [law.a, law.b, law.E, law.A, law.B, law.alpha, law.beta]
            }
            let samples: [[Double]]
            switch method {
            case .runs:
                samples = bootRuns(7) { w in
                    var objective = base
                    objective.weights = w
                    return try refit(objective)
                }
            case .residuals:
                // Residuals in log loss, inflated by √(n / (n − 5)) for the five fitted parameters.
                let fittedLog = runs.indices.map { log(fit.law.loss(parameters: n[$0], tokens: d[$0])) }
                let residuals = runs.indices.map { log(l[$0]) - fittedLog[$0] }
                let dof = Double(max(runs.count - 5, 1))
                let pool = residualPool(residuals, leverages: [Double](repeating: 0, count: runs.count),
                                        inflation: (Double(runs.count) / dof).squareRoot())
                samples = bootResiduals(7, fitted: fittedLog, pool: pool) { logLosses in
                    try refit(Approach3Objective(parameters: n, tokens: d, losses: logLosses.map { exp($0) }, delta: a3.delta))
                }
            }
            var logK = 0.0
            for i in runs.indices { logK += log(runs[i].flops / (n[i] * d[i])) }
            let k = exp(logK / Double(runs.count))
            let law = fit.law
            let allocations = (options.allocationBudgets ?? report.budgets).map { c -> Allocation in
                let opt = law.optimalAllocation(flops: c, flopsPerParameterToken: k)
                return Allocation(budget: c, parameters: opt.parameters, tokens: opt.tokens, tokensPerParameter: opt.tokens / opt.parameters)
            }
            report.approach3 = Approach3Summary(
                E: Estimate(value: law.E, samples: samples[2]), A: Estimate(value: law.A, samples: samples[3]),
                B: Estimate(value: law.B, samples: samples[4]), alpha: Estimate(value: law.alpha, samples: samples[5]),
                beta: Estimate(value: law.beta, samples: samples[6]), law: law, objective: fit.objective, starts: fit.starts,
                convergedStarts: fit.convergedStarts, flopsPerParameterToken: k, allocations: allocations)
            report.exponents.append(summary(3, a: law.a, b: law.b, samples: samples))
        } catch let error as FitError where options.approaches.count > 1 {
            report.notes.append("approach 3 skipped: \(error)")
        }
    }
    return report
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
