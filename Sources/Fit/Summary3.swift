// Approach 3's part of a FitReport: the headline solver's fit with the other solver's beside it,
// bootstrap intervals for the law, a, b and the optimum at each budget, and the α–β correlation.
import Foundation

/// A point fit of approach 3, and how to refit a resample the same way.
struct Approach3Run {
    var law: ParametricLaw
    var objective: Double
    var seconds: Double
    var detail: String
    var refit: @Sendable (Approach3Objective) throws -> ParametricLaw
}

func runApproach3(_ objective: Approach3Objective, solver: Approach3Solver, options: FitOptions) throws -> Approach3Run {
    let start = Date()
    if solver == .lbfgs {
        var a3 = options.approach3
        a3.threads = options.threads
        let fit = try fitApproach3(objective, options: a3)
        // Refits start from the full fit's best distinct endpoints rather than the whole grid:
        // a resample moves the optimum only a little.
        let starts = fit.bestEndpoints, lbfgs = a3.lbfgs
        return Approach3Run(law: fit.law, objective: fit.objective, seconds: Date().timeIntervalSince(start),
                            detail: "L-BFGS from \(fit.starts) starts, \(fit.convergedStarts) converged, \(fit.evaluations) evaluations") { o in
            guard let best = minimizeFromStarts(o, starts: starts, options: lbfgs, threads: 1).first else {
                throw FitError.noConvergence(approach: 3)
            }
            return ParametricLaw(theta: best.theta)
        }
    }
    var vp = options.varpro
    vp.threads = options.threads
    let fit = try fitApproach3VarPro(objective, options: vp)
    let starts = fit.endpoints, refitOptions = vp
    return Approach3Run(law: fit.law, objective: fit.objective, seconds: Date().timeIntervalSince(start),
                        detail: "variable projection: \(fit.gridPoints) (α, β) grid points, \(fit.refined) refined, "
                            + "\(fit.profileEvaluations) profile evaluations") { o in
        try refitVarPro(o, starts: starts, options: refitOptions)
    }
}

func summarizeApproach3(_ context: FitContext, into report: inout FitReport) throws {
    let points = context.points, options = context.options
    let n = points.map { $0.parameters(for: options.convention)! }, d = points.map(\.tokens), l = points.map(\.finalLoss)
    try checkApproach3Design(parameters: n, tokens: d)
    let delta = options.approach3.delta
    // Each run counts once, or each budget counts once (its runs share one budget's weight).
    let perBudget = approach3Weights(points, weighting: options.approach3.weighting)
    let base = Approach3Objective(parameters: n, tokens: d, losses: l, weights: perBudget, delta: delta)
    let fit = try runApproach3(base, solver: options.solver == .lbfgs ? .lbfgs : .varpro, options: options)
    // A law flat in N or D gives a = β/(α+β) all the same, a number that means nothing.
    if !(fit.law.A > 0) { throw FitError.flatLaw(column: "N") }
    if !(fit.law.B > 0) { throw FitError.flatLaw(column: "D") }
    var comparison: Approach3Comparison? = nil
    if options.solver == .both {
        let other = try runApproach3(base, solver: .lbfgs, options: options)
        comparison = Approach3Comparison(solver: .lbfgs, law: other.law, objective: other.objective, seconds: other.seconds,
                                         detail: other.detail)
    }
    var k = 6.0
    if points.allSatisfy({ $0.flops > 0 }) {
        k = exp(points.indices.reduce(0) { $0 + log(points[$1].flops / (n[$1] * d[$1])) } / Double(points.count))
    } else {
        report.notes.append("approach 3: C is not known for every run, so the optimum takes C = 6 N D")
    }
    let budgets = options.allocationBudgets ?? report.budgets, ahead = options.forecastBudgets
    func values(_ law: ParametricLaw) -> [Double] {
        let optima = budgets.map { law.optimalAllocation(flops: $0, flopsPerParameterToken: k) }
        return [law.a, law.b, law.E, law.A, law.B, law.alpha, law.beta] + optima.map(\.parameters) + optima.map(\.tokens)
            + approach3ForecastValues(law, k: k, budgets: ahead)
    }
    let width = 7 + 2 * budgets.count + 3 * ahead.count
    let samples: [[Double]]
    switch options.bootstrapMethod {
    case .runs:
        samples = context.bootstrap(width: width) { r in
            let (w, losses) = context.runResample(r, groups: context.strata)
            let weights = perBudget.map { zip(w, $0).map { $0 * $1 } } ?? w
            return values(try fit.refit(Approach3Objective(parameters: n, tokens: d, losses: losses, weights: weights, delta: delta)))
        }
    case .residuals:
        // Residuals in log loss, inflated by √(n / (n − 5)) for the five fitted parameters.
        let fittedLog = points.indices.map { log(fit.law.loss(parameters: n[$0], tokens: d[$0])) }
        let residuals = points.indices.map { log(l[$0]) - fittedLog[$0] }
        let dof = Double(max(points.count - 5, 1))
        let pool = residualPool(residuals, leverages: [Double](repeating: 0, count: points.count),
                                inflation: (Double(points.count) / dof).squareRoot())
        samples = context.bootstrap(width: width) { r in
            let logLosses = residualResample(fitted: fittedLog, pool: pool, seed: options.seed, index: r)
            return values(try fit.refit(Approach3Objective(parameters: n, tokens: d, losses: logLosses.map { exp($0) },
                                                           weights: perBudget, delta: delta)))
        }
    }
    let law = fit.law
    let allocations = budgets.enumerated().map { j, c -> Allocation in
        let opt = law.optimalAllocation(flops: c, flopsPerParameterToken: k)
        return Allocation(budget: c, parameters: opt.parameters, tokens: opt.tokens, tokensPerParameter: opt.tokens / opt.parameters,
                          parametersInterval95: Estimate(value: opt.parameters, samples: samples[7 + j]).interval95,
                          tokensInterval95: Estimate(value: opt.tokens, samples: samples[7 + budgets.count + j]).interval95)
    }
    if !ahead.isEmpty {
        report.forecasts = (report.forecasts ?? []) + forecasts(approach: 3, budgets: ahead, point: approach3ForecastValues(law, k: k, budgets: ahead),
                                                                 samples: samples[(7 + 2 * budgets.count)...])
    }
    let correlation = pearsonCorrelation(samples[5], samples[6])
    report.approach3 = Approach3Summary(
        E: Estimate(value: law.E, samples: samples[2]), A: Estimate(value: law.A, samples: samples[3]),
        B: Estimate(value: law.B, samples: samples[4]), alpha: Estimate(value: law.alpha, samples: samples[5]),
        beta: Estimate(value: law.beta, samples: samples[6]), law: law, solver: options.solver == .lbfgs ? .lbfgs : .varpro,
        objective: fit.objective, seconds: fit.seconds, detail: fit.detail, comparison: comparison,
        alphaBetaCorrelation: correlation, flopsPerParameterToken: k, allocations: allocations, huberDelta: delta)
    report.exponents.append(context.summary(3, a: law.a, b: law.b, samples: samples))
    if let correlation, abs(correlation) > 0.95 {
        report.notes.append(String(format: "approach 3: α and β are correlated (r = %.3f over the resamples): the data "
            + "barely separate them, so their intervals are wide while a = β/(α+β) may still be tight; more spread in N "
            + "and D helps", correlation))
    }
}

/// Five parameters need more than five distinct points, and A/N^α and B/D^β each need their
/// variable to vary; otherwise the solver returns whatever its start was.
/// Approach 3's weight per run: nil (each run once) or, by budget, the weight that gives every
/// budget the same total (runs without a budget form one group), scaled to a mean of 1.
func approach3Weights(_ points: [FitRun], weighting: Approach3Weighting) -> [Double]? {
    guard weighting == .budgets else { return nil }
    var counts: [Double: Int] = [:]
    for p in points { counts[p.budget, default: 0] += 1 }
    let scale = Double(points.count) / Double(counts.count)
    return points.map { scale / Double(counts[$0.budget]!) }
}

func checkApproach3Design(parameters n: [Double], tokens d: [Double]) throws {
    let distinct = Set(zip(n, d).map { [$0.0, $0.1] }).count
    guard distinct >= 6 else { throw FitError.tooFewPoints(approach: 3, found: distinct, needed: 6) }
    for (column, values) in [("N", n), ("D", d)] where values.max()! <= values.min()! * (1 + 1e-9) {
        throw FitError.noSpread(approach: 3, column: column, value: values[0])
    }
}

/// Pearson correlation over the pairs where both are finite; nil with fewer than 3 pairs or no spread.
public func pearsonCorrelation(_ x: [Double], _ y: [Double]) -> Double? {
    let pairs = zip(x, y).filter { $0.0.isFinite && $0.1.isFinite }
    guard pairs.count >= 3 else { return nil }
    let mx = pairs.reduce(0) { $0 + $1.0 } / Double(pairs.count), my = pairs.reduce(0) { $0 + $1.1 } / Double(pairs.count)
    var sxy = 0.0, sxx = 0.0, syy = 0.0
    for (a, b) in pairs { sxy += (a - mx) * (b - my); sxx += (a - mx) * (a - mx); syy += (b - my) * (b - my) }
    guard sxx > 0, syy > 0 else { return nil }
    return sxy / (sxx * syy).squareRoot()
}
