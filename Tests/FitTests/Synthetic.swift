// Synthetic isoFLOP sweeps from a known law L(N, D) = E + A/N^α + B/D^β, for the fitter's tests.
import Foundation
import Fit
import Tensor

/// Chinchilla's fitted law (Hoffmann et al. 2022, eq. 10), the truth of the synthetic sweeps.
let chinchillaLaw = ParametricLaw(E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28)

/// Runs at each budget with C = 6 N D, sizes spaced evenly in ln N at the given offsets from the
/// true optimum (shifted by `shift(budget index)`), losses from `law` times (1 + noise·z).
func syntheticSweep(law: ParametricLaw = chinchillaLaw, budgets: [Double] = [1e18, 1e19, 1e20, 1e21, 1e22],
                    offsets: [Double] = stride(from: -1.5, through: 1.5, by: 3.0 / 11).map { $0 },
                    shift: (Int) -> Double = { _ in 0 }, noise: Double = 0, seed: UInt64 = 1,
                    curves: Bool = false) -> [FitRun] {
    var rng = SplitMix64(seed: seed)
    var runs: [FitRun] = []
    for (bi, c) in budgets.enumerated() {
        let nOpt = law.optimalAllocation(flops: c, flopsPerParameterToken: 6).parameters
        for (k, off) in offsets.enumerated() {
            let n = nOpt * exp(off + shift(bi)), d = c / (6 * n)
            let loss = law.loss(parameters: n, tokens: d) * (1 + noise * rng.normal())
            var curve: [CurvePoint] = []
            if curves {
                // The loss along training is the law at the tokens seen so far (an idealised curve).
                for j in 1...40 {
                    let dj = d * Double(j) / 40
                    curve.append(CurvePoint(flops: 6 * n * dj, tokens: dj, loss: law.loss(parameters: n, tokens: dj)))
                }
            }
            runs.append(FitRun(id: "b\(bi)s\(k)", budget: c, parameters: n, nonEmbeddingParameters: 0.7 * n,
                               tokens: d, flops: c, finalLoss: loss, curve: curve))
        }
    }
    return runs
}

func relativeError(_ x: Double, _ truth: Double) -> Double { abs(x - truth) / abs(truth) }

/// Runs at `count` points with N and D drawn independently and log-uniformly (N in 1e7–1e10,
/// D in 1e9–1e12; no budgets, no isoFLOP structure), losses from `law` times (1 + noise·z).
func randomPoints(law: ParametricLaw = chinchillaLaw, count: Int, noise: Double, seed: UInt64) -> [FitRun] {
    var rng = SplitMix64(seed: seed)
    func uniform() -> Double { Double(rng.next() >> 11) / 9_007_199_254_740_992.0 }
    return (0..<count).map { i in
        let n = exp(log(1e7) + uniform() * log(1e3)), d = exp(log(1e9) + uniform() * log(1e3))
        let loss = law.loss(parameters: n, tokens: d) * (1 + noise * rng.normal())
        return FitRun(id: "p\(i)", budget: 0, parameters: n, tokens: d, flops: 6 * n * d, finalLoss: loss)
    }
}
