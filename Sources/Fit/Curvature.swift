// Diagnostics of approach 2: is ln N_opt straight in ln C (a quadratic term and the local exponents
// between neighbouring budgets), and where each parabola's vertex sits within its sampled sizes.
import Foundation

/// The exponent between two neighbouring budgets: Δ ln N_opt / Δ ln C.
public struct LocalExponent: Codable, Equatable, Sendable {
    public var lowerBudget: Double
    public var upperBudget: Double
    public var a: Estimate
}

/// ln N_opt = c + a·x + q·x², x = ln C − mean ln C over the included budgets, fitted by least
/// squares to approach 2's vertices; q = 0 when the exponent is the same at every budget.
public struct CurvatureTest: Codable, Equatable, Sendable {
    public var q: Estimate
    /// The slope at the budgets' mean ln C.
    public var centralA: Estimate
    public var localExponents: [LocalExponent]

    /// True when q's 95% interval excludes 0: the exponent changes across these budgets.
    public var curved: Bool {
        guard let i = q.interval95 else { return false }
        return !i.contains(0)
    }
}

/// q, the central slope and the local exponents of one approach-2 fit, in the order
/// [q, centralA, local exponents between the budgets in `budgets`]; NaN where a budget of
/// `budgets` is not included in `fit` (a bootstrap refit can leave one out).
func curvatureValues(_ fit: Approach2Fit, budgets: [Double]) -> [Double] {
    var byBudget: [Double: Double] = [:]
    for p in fit.profiles where p.included { byBudget[p.budget] = log(p.optimalParameters) }
    let x = budgets.compactMap { byBudget[$0] != nil ? log($0) : nil }
    let y = budgets.compactMap { byBudget[$0] }
    var values = [Double.nan, .nan]
    if x.count >= 3 {
        let mean = x.reduce(0, +) / Double(x.count)
        if let p = fitParabola(x: x.map { $0 - mean }, y: y, weights: [Double](repeating: 1, count: x.count)) {
            values = [p.c2, p.c1]
        }
    }
    for (lo, hi) in zip(budgets, budgets.dropFirst()) {
        if let yl = byBudget[lo], let yh = byBudget[hi] { values.append((yh - yl) / (log(hi) - log(lo))) } else { values.append(.nan) }
    }
    return values
}

/// The curvature test from the full fit and its bootstrap refits (`samples[k]` holds value k of
/// `curvatureValues` over the resamples); nil with fewer than 3 included budgets.
func curvatureTest(_ fit: Approach2Fit, samples: [[Double]]) -> CurvatureTest? {
    let budgets = fit.profiles.filter(\.included).map(\.budget)
    guard budgets.count >= 3 else { return nil }
    let values = curvatureValues(fit, budgets: budgets)
    func estimate(_ k: Int) -> Estimate { Estimate(value: values[k], samples: k < samples.count ? samples[k] : []) }
    let local = zip(budgets, budgets.dropFirst()).enumerated().map { k, pair in
        LocalExponent(lowerBudget: pair.0, upperBudget: pair.1, a: estimate(2 + k))
    }
    return CurvatureTest(q: estimate(0), centralA: estimate(1), localExponents: local)
}

/// Where a parabola's vertex lies within its sampled ln N range: 0 at the smallest size, 1 at the
/// largest. Vertices in the outer quarter (below 0.25 or above 0.75) come from off-centre grids,
/// whose vertices are biased toward the grid's centre (measured in `Tests/FitTests/CurvatureTests`).
public func vertexPosition(_ profile: IsoFLOPProfile) -> Double {
    let lo = log(profile.parameterRange.lowerBound), hi = log(profile.parameterRange.upperBound)
    return (log(profile.optimalParameters) - lo) / (hi - lo)
}

/// True when the vertex sits in the outer quarter of the sampled sizes (or outside them).
public func isOffCentre(_ profile: IsoFLOPProfile) -> Bool {
    let p = vertexPosition(profile)
    return !(p >= 0.25 && p <= 0.75)
}
