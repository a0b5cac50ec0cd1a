// Approach 3's two solvers timed on the same data in the same process (`isoflop fit --benchmark`),
// and the synthetic data of the Chinchilla shape they are timed on.
import Foundation
import Tensor

/// `count` points on nine isoFLOP budgets from 6e18 to 3e21 FLOPs (C = 6 N D), sizes spread over
/// ±1.5 in ln N around each budget's optimum, losses from Chinchilla's law (Hoffmann et al. 2022,
/// eq. 10) with 1% noise: the shape of the 240 points of Hoffmann et al.'s Figure 4.
public func chinchillaShapedPoints(count: Int = 240, noise: Double = 0.01, seed: UInt64 = 1) -> [FitRun] {
    let law = ParametricLaw(E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28)
    let budgets = (0..<9).map { 6e18 * pow(3e21 / 6e18, Double($0) / 8) }
    var rng = SplitMix64(seed: seed)
    return (0..<count).map { i in
        let c = budgets[i % budgets.count]
        let offset = -1.5 + 3 * Double(rng.next() >> 11) / 9_007_199_254_740_992.0
        let n = law.optimalAllocation(flops: c, flopsPerParameterToken: 6).parameters * exp(offset), d = c / (6 * n)
        let loss = law.loss(parameters: n, tokens: d) * (1 + noise * rng.normal())
        return FitRun(id: "p\(i)", budget: c, parameters: n, tokens: d, flops: c, finalLoss: loss)
    }
}

/// One line of the benchmark: what was timed, its wall seconds and the objective it reached.
public struct BenchmarkRow: Sendable {
    public var label: String
    public var seconds: Double
    public var objective: Double?
}

/// Times approach 3 on `runs` with one thread: each solver's point fit, then each with `resamples`
/// residual-bootstrap refits (the bootstrap's time is the total less the point fit's); last, as
/// `fit` runs it, VarPro's fit and refits together on every thread.
public func benchmarkApproach3(_ runs: [FitRun], resamples: Int) throws -> [BenchmarkRow] {
    var rows: [BenchmarkRow] = []
    for solver in [Approach3Solver.lbfgs, .varpro] {
        var options = FitOptions()
        options.approaches = [3]
        options.solver = solver
        options.threads = 1
        options.allocationBudgets = []
        let name = solver == .lbfgs ? "L-BFGS grid" : "VarPro"
        var start = Date()
        let point = try fitScalingLaws(runs, options: options)
        let pointSeconds = Date().timeIntervalSince(start)
        rows.append(BenchmarkRow(label: "\(name): fit of \(runs.count) points", seconds: pointSeconds,
                                 objective: point.approach3?.objective))
        guard resamples > 0 else { continue }
        options.bootstrapResamples = resamples
        start = Date()
        _ = try fitScalingLaws(runs, options: options)
        rows.append(BenchmarkRow(label: "\(name): \(resamples) bootstrap refits", seconds: Date().timeIntervalSince(start) - pointSeconds,
                                 objective: nil))
    }
    guard resamples > 0 else { return rows }
    var options = FitOptions()
    options.approaches = [3]
    options.allocationBudgets = []
    options.bootstrapResamples = resamples
    let start = Date()
    let fit = try fitScalingLaws(runs, options: options)
    rows.append(BenchmarkRow(label: "VarPro: fit and \(resamples) refits, \(options.threads) threads",
                             seconds: Date().timeIntervalSince(start), objective: fit.approach3?.objective))
    return rows
}

/// `fit --benchmark`: both solvers of approach 3 on `runs` with one thread and `resamples`
/// refits (`benchmarkApproach3`), how many times faster VarPro is, and VarPro on 100,000 points
/// of the Chinchilla shape; each line goes to `say` as it is measured.
public func reportApproach3Benchmark(_ runs: [FitRun], synthetic: Bool, resamples: Int, say: (String) -> Void) throws {
    say("approach 3 on \(runs.count) points\(synthetic ? " (synthetic, Chinchilla's shape)" : ""), one thread, \(cpuModelName())")
    let rows = try benchmarkApproach3(runs, resamples: resamples)
    for row in rows {
        say("  " + row.label.padding(toLength: 42, withPad: " ", startingAt: 0) + String(format: " %8.3f s", row.seconds)
            + (row.objective.map { String(format: "  objective %.9g", $0) } ?? ""))
    }
    if rows.count >= 4 {
        say(String(format: "  VarPro is %.0f× faster on the fit and %.0f× on the bootstrap", rows[0].seconds / rows[2].seconds,
                   rows[1].seconds / rows[3].seconds))
    }
    var options = FitOptions()
    options.approaches = [3]
    options.threads = 1
    options.allocationBudgets = []
    let big = chinchillaShapedPoints(count: 100_000, seed: 2)
    let start = Date()
    let report = try fitScalingLaws(big, options: options)
    say(String(format: "  VarPro: fit of 100,000 points %13.3f s  objective %.9g", Date().timeIntervalSince(start),
               report.approach3?.objective ?? .nan))
}
