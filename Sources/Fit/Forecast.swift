// Forecasts of the compute-optimal model at budgets the runs did not reach: approach 2's power
// laws with a loss frontier L_min(C) = E + k·C^−γ through its parabolas' minima, and approach 3's
// parametric law at its optimal allocation; each with bootstrap intervals from the fit's resamples.
import Foundation
import Tensor

/// One approach's forecast of the optimum at one budget, with 95% bootstrap intervals.
public struct Forecast: Codable, Equatable, Sendable {
    public var approach: Int
    public var budget: Double
    /// N_opt and D_opt at `budget`.
    public var parameters: Estimate
    public var tokens: Estimate
    /// The loss the optimal model reaches: approach 3's L(N_opt, D_opt); approach 2's loss
    /// frontier through its budgets' best losses (nil where it could not be fitted).
    public var loss: Estimate?
}

/// The best loss reachable at each budget, L_min(C) = E + k·(C/C₀)^−γ, fitted by least squares
/// to one loss per budget (approach 2's best runs or parabola minima). C₀ is the geometric mean of the fitted budgets, so k is the
/// reducible loss there. With two budgets E is taken as 0 (a pure power law).
public struct LossFrontier: Codable, Equatable, Sendable {
    public var E: Double
    public var k: Double
    public var gamma: Double
    public var referenceBudget: Double

    public func loss(at c: Double) -> Double { E + k * pow(c / referenceBudget, -gamma) }
}

/// Fits the loss frontier to (budget, best loss) pairs; nil with fewer than two finite pairs or
/// when no γ in (0, 2] gives a frontier that falls with C.
public func fitLossFrontier(budgets: [Double], losses: [Double]) -> LossFrontier? {
    let pairs = zip(budgets, losses).filter { $0.0 > 0 && $0.0.isFinite && $0.1 > 0 && $0.1.isFinite }
    guard pairs.count >= 2 else { return nil }
    let c0 = exp(pairs.reduce(0) { $0 + log($1.0) } / Double(pairs.count))
    let x = pairs.map { log($0.0 / c0) }, y = pairs.map(\.1)
    let floorFree = pairs.count >= 3
    // For a fixed γ the frontier is linear in (E, k): solve it exactly, with E kept in [0, min L).
    func solve(_ gamma: Double) -> (e: Double, k: Double, sse: Double)? {
        let u = x.map { exp(-gamma * $0) }
        var e = 0.0, k: Double
        if floorFree {
            let n = Double(u.count), su = u.reduce(0, +), sy = y.reduce(0, +)
            let suu = u.reduce(0) { $0 + $1 * $1 }, suy = zip(u, y).reduce(0) { $0 + $1.0 * $1.1 }
            let det = n * suu - su * su
            guard det > 1e-300 else { return nil }
            k = (n * suy - su * sy) / det
            e = (sy - k * su) / n
            if e < 0 || e >= y.min()! {
                e = e < 0 ? 0 : y.min()! * (1 - 1e-9)
                k = zip(u, y).reduce(0) { $0 + $1.0 * ($1.1 - e) } / suu
            }
        } else {
            // Two budgets: L = k·(C/C₀)^−γ, a line in log-log through both points.
            let ly = y.map { log($0) }
            k = exp((ly[0] + ly[1]) / 2 + gamma * (x[0] + x[1]) / 2)
        }
        guard k > 0 else { return nil }
        let sse = zip(u, y).reduce(0) { $0 + pow(e + k * $1.0 - $1.1, 2) }
        return (e, k, sse)
    }
    if !floorFree {
        let ly = y.map { log($0) }
        guard x[1] != x[0] else { return nil }
        let gamma = -(ly[1] - ly[0]) / (x[1] - x[0])
        guard gamma > 0, let s = solve(gamma) else { return nil }
        return LossFrontier(E: 0, k: s.k, gamma: gamma, referenceBudget: c0)
    }
    // A coarse scan of γ, then golden-section refinement around the best cell.
    let grid = (1...200).map { Double($0) * 0.01 }
    var best: (gamma: Double, sse: Double)? = nil
    for g in grid { if let s = solve(g), s.sse < (best?.sse ?? .infinity) { best = (g, s.sse) } }
    guard let coarse = best else { return nil }
    var lo = max(1e-4, coarse.gamma - 0.01), hi = coarse.gamma + 0.01
    let phi = (5.0.squareRoot() - 1) / 2
    for _ in 0..<60 {
        let m1 = hi - phi * (hi - lo), m2 = lo + phi * (hi - lo)
        if (solve(m1)?.sse ?? .infinity) < (solve(m2)?.sse ?? .infinity) { hi = m2 } else { lo = m1 }
    }
    let gamma = (lo + hi) / 2
    guard let s = solve(gamma) else { return nil }
    return LossFrontier(E: s.e, k: s.k, gamma: gamma, referenceBudget: c0)
}

/// The loss per budget that approach 2's frontier goes through.
public enum FrontierPoints: String, Codable, CaseIterable, Sendable {
    /// The lowest loss of each budget's runs: what a forecast is scored against. On the laptop
    /// grid the parabola's minimum sits up to 0.11 nats above the best run (an isoFLOP profile
    /// of six to nine tiny shapes, with depth jumps, is no parabola), most at the smaller
    /// budgets, and a frontier through those minima forecast the next budgets 0.065–0.122 nats
    /// too high on matched runs of two corpora; through the best runs, −0.046 to +0.041
    /// (docs/predicting.md).
    case bestRuns = "best"
    /// The minimum of each budget's parabola in ln N.
    case vertices = "vertex"
}

/// Approach 2's frontier through its included budgets: their best runs or their parabolas' minima.
func lossFrontier(_ fit: Approach2Fit, through points: FrontierPoints = .bestRuns) -> LossFrontier? {
    let used = fit.profiles.filter(\.included)
    let losses = used.map { points == .bestRuns ? ($0.bestLoss ?? $0.lossAtOptimum) : $0.lossAtOptimum }
    return fitLossFrontier(budgets: used.map(\.budget), losses: losses)
}

/// Approach 2's forecast values at `budgets`, in the order N…, D…, L… (NaN where undefined), for
/// the bootstrap's value arrays.
func approach2ForecastValues(_ fit: Approach2Fit, budgets: [Double], frontier points: FrontierPoints) -> [Double] {
    let frontier = lossFrontier(fit, through: points)
    return budgets.map(fit.optimalParameters.value) + budgets.map(fit.optimalTokens.value)
        + budgets.map { frontier?.loss(at: $0) ?? .nan }
}

/// Approach 3's forecast values at `budgets`, in the order N…, D…, L….
func approach3ForecastValues(_ law: ParametricLaw, k: Double, budgets: [Double]) -> [Double] {
    let optima = budgets.map { law.optimalAllocation(flops: $0, flopsPerParameterToken: k) }
    return optima.map(\.parameters) + optima.map(\.tokens) + optima.map { law.loss(parameters: $0.parameters, tokens: $0.tokens) }
}

/// Forecasts from the point fit's values and the resamples' (laid out as the two functions above).
func forecasts(approach: Int, budgets: [Double], point: [Double], samples: ArraySlice<[Double]>) -> [Forecast] {
    let m = budgets.count, s = Array(samples)
    return budgets.indices.map { j in
        let loss = point[2 * m + j]
        return Forecast(approach: approach, budget: budgets[j], parameters: Estimate(value: point[j], samples: s[j]),
                        tokens: Estimate(value: point[m + j], samples: s[m + j]),
                        loss: loss.isFinite ? Estimate(value: loss, samples: s[2 * m + j]) : nil)
    }
}
