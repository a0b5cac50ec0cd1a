// Approach 3 of Hoffmann et al. 2022 (section 3.3, appendix D.2): fit L(N, D) = E + A/N^α + B/D^β
// by minimising a Huber loss (δ = 1e-3) between log L and log-sum-exp(a − α log N, b − β log D, e),
// with A = e^a, B = e^b, E = e^e, by L-BFGS from a grid of starting points, keeping the best.
import Foundation

/// Huber loss: r²/2 for |r| ≤ δ, δ(|r| − δ/2) beyond.
@inlinable public func huber(_ r: Double, delta: Double) -> Double {
    let m = abs(r)
    return m <= delta ? 0.5 * r * r : delta * (m - 0.5 * delta)
}

/// Derivative of `huber` in r: r clipped to [−δ, δ].
@inlinable public func huberDerivative(_ r: Double, delta: Double) -> Double {
    min(delta, max(-delta, r))
}

/// The parametric law L(N, D) = E + A/N^α + B/D^β.
public struct ParametricLaw: Codable, Equatable, Sendable {
    public var E: Double
    public var A: Double
    public var B: Double
    public var alpha: Double
    public var beta: Double

    public init(E: Double, A: Double, B: Double, alpha: Double, beta: Double) {
        self.E = E; self.A = A; self.B = B; self.alpha = alpha; self.beta = beta
    }

    /// From the fitted vector (a, b, e, α, β).
    public init(theta: [Double]) {
        self.init(E: exp(theta[2]), A: exp(theta[0]), B: exp(theta[1]), alpha: theta[3], beta: theta[4])
    }

    /// The vector (a, b, e, α, β) the objective is written in.
    public var theta: [Double] { [log(A), log(B), log(E), alpha, beta] }

    public func loss(parameters n: Double, tokens d: Double) -> Double {
        E + A / pow(n, alpha) + B / pow(d, beta)
    }

    /// Exponent of N_opt ∝ C^a, a = β/(α+β).
    public var a: Double { beta / (alpha + beta) }
    /// Exponent of D_opt ∝ C^b, b = α/(α+β).
    public var b: Double { alpha / (alpha + beta) }

    /// N_opt = G k^−a C^a and D_opt = (k^(a−1)/G) C^b as power laws in C (see `optimalAllocation`).
    public func optimalPowerLaws(flopsPerParameterToken k: Double) -> (parameters: PowerLaw, tokens: PowerLaw) {
        let g = pow(alpha * A / (beta * B), 1 / (alpha + beta))
        return (PowerLaw(exponent: a, coefficient: g * pow(k, -a)), PowerLaw(exponent: b, coefficient: pow(k, a - 1) / g))
    }

    /// The loss-minimising N and D for a budget C under C = k N D (k ≈ 6 FLOPs per parameter per
    /// token): N_opt = G (C/k)^a, D_opt = (C/k) / N_opt, G = (αA / (βB))^(1/(α+β)).
    public func optimalAllocation(flops c: Double, flopsPerParameterToken k: Double) -> (parameters: Double, tokens: Double) {
        let g = pow(alpha * A / (beta * B), 1 / (alpha + beta))
        let n = g * pow(c / k, a)
        return (n, c / k / n)
    }
}

/// The approach-3 objective over runs: Σ w_i Huber_δ(LSE(a − α log N_i, b − β log D_i, e) − log L_i).
/// Weights are bootstrap multiplicities (1 for a plain fit; 0 leaves a run out).
public struct Approach3Objective: Sendable {
    public private(set) var logN: [Double]
    public private(set) var logD: [Double]
    public private(set) var logL: [Double]
    public var weights: [Double]
    public var delta: Double

    public init(parameters: [Double], tokens: [Double], losses: [Double], weights: [Double]? = nil, delta: Double = 1e-3) {
        logN = parameters.map { log($0) }
        logD = tokens.map { log($0) }
        logL = losses.map { log($0) }
        self.weights = weights ?? [Double](repeating: 1, count: parameters.count)
        self.delta = delta
    }

    /// Every `stride`-th run (the first of each stride), with its weight.
    func subsample(stride k: Int) -> Approach3Objective {
        guard k > 1 else { return self }
        var o = self
        let keep = Swift.stride(from: 0, to: logN.count, by: k).map { $0 }
        o.logN = keep.map { logN[$0] }; o.logD = keep.map { logD[$0] }; o.logL = keep.map { logL[$0] }
        o.weights = keep.map { weights[$0] }
        return o
    }

    /// Value at θ = (a, b, e, α, β), with the gradient written to `gradient` (5 entries).
    /// No allocation: the loop reads the stored logs and writes only the 5 gradient slots.
    public func evaluate(_ theta: UnsafePointer<Double>, gradient: UnsafeMutablePointer<Double>) -> Double {
        let a = theta[0], b = theta[1], e = theta[2], alpha = theta[3], beta = theta[4]
        var f = 0.0, ga = 0.0, gb = 0.0, ge = 0.0, gAlpha = 0.0, gBeta = 0.0
        logN.withUnsafeBufferPointer { ln in
            logD.withUnsafeBufferPointer { ld in
                logL.withUnsafeBufferPointer { ll in
                    weights.withUnsafeBufferPointer { w in
                        for i in 0..<ln.count where w[i] != 0 {
                            let t1 = a - alpha * ln[i], t2 = b - beta * ld[i]
                            // Shift by the largest term so nothing overflows; that term's exp is 1.
                            let x1: Double, x2: Double, x3: Double, top: Double
                            if t1 >= t2 && t1 >= e {
                                top = t1; x1 = 1; x2 = exp(t2 - t1); x3 = exp(e - t1)
                            } else if t2 >= e {
                                top = t2; x1 = exp(t1 - t2); x2 = 1; x3 = exp(e - t2)
                            } else {
                                top = e; x1 = exp(t1 - e); x2 = exp(t2 - e); x3 = 1
                            }
                            let sum = x1 + x2 + x3
                            let r = top + log(sum) - ll[i]
                            f += w[i] * huber(r, delta: delta)
                            // d LSE / d t_j is the softmax weight of term j.
                            let h = w[i] * huberDerivative(r, delta: delta) / sum
                            ga += h * x1
                            gb += h * x2
                            ge += h * x3
                            gAlpha -= h * x1 * ln[i]
                            gBeta -= h * x2 * ld[i]
                        }
                    }
                }
            }
        }
        gradient[0] = ga; gradient[1] = gb; gradient[2] = ge; gradient[3] = gAlpha; gradient[4] = gBeta
        return f
    }

    /// Value and gradient as arrays (for tests and one-off use).
    public func valueAndGradient(_ theta: [Double]) -> (value: Double, gradient: [Double]) {
        var g = [Double](repeating: 0, count: 5)
        let v = theta.withUnsafeBufferPointer { t in g.withUnsafeMutableBufferPointer { evaluate(t.baseAddress!, gradient: $0.baseAddress!) } }
        return (v, g)
    }
}

/// Starting points for approach 3, as the cross product of values per coordinate.
public struct InitialGrid: Codable, Equatable, Sendable {
    public var a: [Double]
    public var b: [Double]
    public var e: [Double]
    public var alpha: [Double]
    public var beta: [Double]

    public init(a: [Double], b: [Double], e: [Double], alpha: [Double], beta: [Double]) {
        self.a = a; self.b = b; self.e = e; self.alpha = alpha; self.beta = beta
    }

    /// Hoffmann et al. 2022, appendix D.2: α, β ∈ {0, 0.5, …, 2}, e ∈ {−1, −0.5, …, 1},
    /// a, b ∈ {0, 5, …, 25}: 4,500 starts.
    public static let hoffmann = InitialGrid(
        a: stride(from: 0.0, through: 25, by: 5).map { $0 }, b: stride(from: 0.0, through: 25, by: 5).map { $0 },
        e: stride(from: -1.0, through: 1, by: 0.5).map { $0 },
        alpha: stride(from: 0.0, through: 2, by: 0.5).map { $0 }, beta: stride(from: 0.0, through: 2, by: 0.5).map { $0 })

    public var count: Int { a.count * b.count * e.count * alpha.count * beta.count }

    /// The i-th start as (a, b, e, α, β).
    public func point(_ i: Int) -> [Double] {
        var k = i
        let ib = k % b.count; k /= b.count
        let ia = k % a.count; k /= a.count
        let ie = k % e.count; k /= e.count
        let iBeta = k % beta.count; k /= beta.count
        return [a[ia], b[ib], e[ie], alpha[k], beta[iBeta]]
    }
}

/// How approach 3's objective weighs the runs: each run once (Hoffmann et al.), or each budget
/// once, its runs sharing the budget's weight (a budget of nine shapes then counts as much as
/// one of six).
public enum Approach3Weighting: String, CaseIterable, Codable, Sendable {
    case runs, budgets
}

public struct Approach3Options: Sendable {
    public var grid = InitialGrid.hoffmann
    public var delta = 1e-3
    public var weighting = Approach3Weighting.runs
    public var lbfgs = LBFGSOptions()
    /// Threads for the grid of starts (the starts are independent).
    public var threads = ProcessInfo.processInfo.activeProcessorCount

    public init() {}
}

/// One local minimum reached from the grid.
public struct Approach3Optimum: Sendable {
    public var theta: [Double]
    public var value: Double
    public var converged: Bool
    public var stop: LBFGSResult.Stop
    /// Objective evaluations L-BFGS spent from this start.
    public var evaluations: Int
}

/// Runs L-BFGS from every start and returns the endpoints sorted by objective value (best first).
/// Non-finite endpoints are dropped.
public func minimizeFromStarts(_ objective: Approach3Objective, starts: [[Double]], options: LBFGSOptions,
                               threads: Int) -> [Approach3Optimum] {
    let count = starts.count
    var results = [Approach3Optimum?](repeating: nil, count: count)
    results.withUnsafeMutableBufferPointer { out in
        let outBase = out.baseAddress!
        forEachInParallel(count, threads: threads) { i in
            let r = minimizeLBFGS(from: starts[i], options: options) { objective.evaluate($0, gradient: $1) }
            if r.value.isFinite && r.x.allSatisfy({ $0.isFinite }) {
                outBase[i] = Approach3Optimum(theta: r.x, value: r.value, converged: r.converged, stop: r.stop,
                                              evaluations: r.evaluations)
            }
        }
    }
    return results.compactMap { $0 }.sorted { $0.value < $1.value }
}

/// Result of approach 3 on one data set.
public struct Approach3Fit: Sendable {
    public var law: ParametricLaw
    public var objective: Double
    /// Starts tried and how many of them ended at a stationary point.
    public var starts: Int
    public var convergedStarts: Int
    /// Objective evaluations over all starts.
    public var evaluations: Int
    /// Distinct good endpoints (best first), used to seed bootstrap refits.
    public var bestEndpoints: [[Double]]
}

/// Fits approach 3 to (N, D, L) from every start of the grid.
public func fitApproach3(parameters: [Double], tokens: [Double], losses: [Double],
                         options: Approach3Options = Approach3Options()) throws -> Approach3Fit {
    try fitApproach3(Approach3Objective(parameters: parameters, tokens: tokens, losses: losses, delta: options.delta),
                     options: options)
}

/// Fits approach 3 to `objective` (its δ, not `options.delta`) from every start of the grid.
public func fitApproach3(_ objective: Approach3Objective, options: Approach3Options = Approach3Options()) throws -> Approach3Fit {
    let starts = (0..<options.grid.count).map { options.grid.point($0) }
    let optima = minimizeFromStarts(objective, starts: starts, options: options.lbfgs, threads: options.threads)
    guard let best = optima.first else { throw FitError.noConvergence(approach: 3) }
    var distinct: [[Double]] = []
    for o in optima where distinct.count < 4 {
        let far = distinct.allSatisfy { p in zip(p, o.theta).contains { abs($0 - $1) > 1e-3 } }
        if far { distinct.append(o.theta) }
    }
    return Approach3Fit(law: ParametricLaw(theta: best.theta), objective: best.value, starts: starts.count,
                        convergedStarts: optima.filter(\.converged).count,
                        evaluations: optima.reduce(0) { $0 + $1.evaluations }, bestEndpoints: distinct)
}
