// Each approach's part of a FitReport: its point fit, its bootstrap and its diagnostics. The
// shared context holds the points (seeds combined) and draws the resamples.
import Foundation
import Tensor

/// The points every approach fits, and the bootstrap they share.
struct FitContext {
    let seeds: SeedGroups
    let options: FitOptions
    let resamples: Int
    /// Strata of approach 3's run resampling: the points' budgets (one stratum when none).
    let strata: [BudgetGroup]

    var points: [FitRun] { seeds.points }

    init(runs: [FitRun], options: FitOptions) {
        seeds = SeedGroups(runs, how: options.seeds)
        self.options = options
        resamples = max(0, options.bootstrapResamples)
        strata = groupByBudget(seeds.points)
    }

    /// Resample r of the run design: point multiplicities drawn within each of `groups`, and every
    /// point's loss with its shape's seeds redrawn (the points' own losses when no shape has seeds).
    func runResample(_ r: Int, groups: [BudgetGroup]) -> (weights: [Double], losses: [Double]) {
        let weights = bootstrapWeights(groups: groups, runCount: points.count, seed: options.seed, index: r)
        guard seeds.hasSeeds else { return (weights, points.map(\.finalLoss)) }
        var rng = SplitMix64(seed: options.seed ^ (UInt64(r + 1) &* 0xA24B_AED4_963E_E407))
        _ = rng.next()
        return (weights, seeds.resampledLosses(&rng))
    }

    /// `refit(r)` over the resamples, spread over the threads; entry k holds value k of every refit.
    func bootstrap(width: Int, _ refit: @escaping (Int) throws -> [Double]) -> [[Double]] {
        guard resamples > 0 else { return [[Double]](repeating: [], count: width) }
        return runBootstrap(resamples: resamples, width: width, threads: options.threads, progress: options.progress, refit: refit)
    }

    func summary(_ approach: Int, a: Double, b: Double, samples: [[Double]]) -> ExponentSummary {
        ExponentSummary(approach: approach, a: Estimate(value: a, samples: samples[0]), b: Estimate(value: b, samples: samples[1]),
                        bootstrapUsed: samples[0].filter(\.isFinite).count,
                        chinchillaA: PublishedExponents.chinchilla[approach] ?? .nan, kaplanA: PublishedExponents.kaplan)
    }
}

// MARK: Approach 1

func summarizeApproach1(_ context: FitContext, groups: [BudgetGroup], into report: inout FitReport) throws {
    let points = context.points, convention = context.options.convention, grid = context.options.envelopeGridPoints
    let fit = try fitApproach1(points, convention: convention, gridPoints: grid)
    let samples = context.bootstrap(width: 2) { r in
        let f = try fitApproach1(points, convention: convention, weights: context.runResample(r, groups: groups).weights,
                                 gridPoints: grid)
        return [f.optimalParameters.exponent, f.optimalTokens.exponent]
    }
    report.approach1 = fit
    report.exponents.append(context.summary(1, a: fit.optimalParameters.exponent, b: fit.optimalTokens.exponent, samples: samples))
}

// MARK: Approach 2

func summarizeApproach2(_ context: FitContext, groups: [BudgetGroup], into report: inout FitReport) throws {
    let points = context.points, convention = context.options.convention
    let fit = try fitApproach2(points, groups: groups, convention: convention)
    let included = fit.profiles.filter(\.included).map(\.budget)
    // Each refit gives a, b, then the curvature test's values (q, central a, local exponents).
    let ahead = context.options.forecastBudgets
    func values(_ f: Approach2Fit) -> [Double] {
        [f.optimalParameters.exponent, f.optimalTokens.exponent] + curvatureValues(f, budgets: included)
            + approach2ForecastValues(f, budgets: ahead, frontier: context.options.frontier)
    }
    let curvatureWidth = 2 + max(0, included.count - 1)
    let width = 2 + curvatureWidth + 3 * ahead.count
    let samples: [[Double]]
    switch context.options.bootstrapMethod {
    case .runs:
        samples = context.bootstrap(width: width) { r in
            let (w, losses) = context.runResample(r, groups: groups)
            var resampled = points
            for i in resampled.indices { resampled[i].finalLoss = losses[i] }
            return values(try fitApproach2(resampled, groups: groups, convention: convention, weights: w))
        }
    case .residuals:
        let r = approach2Residuals(points, groups: groups, convention: convention)
        // A budget with only three sizes has no residual freedom (its parabola passes through
        // every point): its runs keep their losses and add nothing to the pool.
        let used = points.indices.filter { r.leverages[$0] < 1 - 1e-9 }
        let pool = residualPool(used.map { r.residuals[$0] }, leverages: used.map { r.leverages[$0] })
        if pool.isEmpty && context.resamples > 0 {
            report.notes.append("approach 2: no budget has more than three sizes, so there are no residuals to resample "
                + "and no interval; resample runs instead, or plan more sizes per budget")
        }
        samples = pool.isEmpty ? [[Double]](repeating: [], count: width) : context.bootstrap(width: width) { index in
            let losses = residualResample(fitted: r.fitted, pool: pool, seed: context.options.seed, index: index)
            var synthetic = points
            for i in used { synthetic[i].finalLoss = losses[i] }
            return values(try fitApproach2(synthetic, groups: groups, convention: convention))
        }
    }
    report.approach2 = fit
    report.notes += fit.warnings.map { "approach 2: " + $0 }
    report.exponents.append(context.summary(2, a: fit.optimalParameters.exponent, b: fit.optimalTokens.exponent, samples: samples))
    report.curvature = curvatureTest(fit, samples: Array(samples[2..<(2 + curvatureWidth)]))
    if !ahead.isEmpty {
        report.forecasts = (report.forecasts ?? []) + forecasts(approach: 2, budgets: ahead, point: approach2ForecastValues(fit, budgets: ahead, frontier: context.options.frontier),
                                                                 samples: samples[(2 + curvatureWidth)...])
    }
    report.notes += approach2Diagnostics(fit, curvature: report.curvature)
}

/// Notes on approach 2's design and shape: off-centre vertices, and a curved ln N_opt.
/// Approach 2's warnings among a fit's notes: grids whose vertex is off-centre, and an exponent
/// that changes across the budgets. `diagnosticLines` states the same facts for every budget.
public func approach2Diagnostics(_ fit: Approach2Fit, curvature: CurvatureTest?) -> [String] {
    var notes: [String] = []
    let off = fit.profiles.filter { $0.included && isOffCentre($0) }
    if !off.isEmpty {
        notes.append("approach 2: the vertex lies in the outer quarter of the sampled sizes at "
            + off.map { "\(formatFLOPs($0.budget)) (\(String(format: "%.2f", vertexPosition($0))))" }.joined(separator: ", ")
            + "; an off-centre grid biases the vertex toward the grid's centre: centre the sizes on the optimum")
    }
    if let c = curvature, c.curved, let i = c.q.interval95 {
        notes.append(String(format: "approach 2: the exponent changes across these budgets: ln N_opt has curvature q = %.3f "
            + "[%.3f, %.3f] in ln C (95%% interval excludes 0); local exponents ", c.q.value, i.lower, i.upper)
            + c.localExponents.map { String(format: "%.2f", $0.a.value) }.joined(separator: ", "))
    }
    return notes
}
