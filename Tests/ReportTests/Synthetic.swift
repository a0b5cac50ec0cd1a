// A synthetic sweep for the report tests: losses from L(N, D) = E + A/N^α + B/D^β with equal
// exponents (so the true a is 0.5), a deterministic wiggle on the training curves, parabolas and
// power laws fitted here by least squares.
import Fit
import Foundation
import Report
import Sweep

enum Synthetic {
    static let e = 2.0, bigA = 60.0, alpha = 0.34, bigB = 60.0, beta = 0.34
    static let batchTokens = 4096.0

    static func loss(parameters n: Double, tokens d: Double) -> Double {
        e + bigA / pow(n, alpha) + bigB / pow(d, beta)
    }

    /// Least-squares parabola y = c0 + c1 u + c2 u² (normal equations, Cramer's rule).
    static func parabola(_ u: [Double], _ y: [Double]) -> (Double, Double, Double) {
        var s = [Double](repeating: 0, count: 5), t = [0.0, 0.0, 0.0]
        for (ui, yi) in zip(u, y) {
            for k in 0..<5 { s[k] += pow(ui, Double(k)) }
            for k in 0..<3 { t[k] += yi * pow(ui, Double(k)) }
        }
        let m = [[s[0], s[1], s[2]], [s[1], s[2], s[3]], [s[2], s[3], s[4]]]
        func det(_ a: [[Double]]) -> Double {
            a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
                + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0])
        }
        let d = det(m)
        var c = [0.0, 0.0, 0.0]
        for k in 0..<3 {
            var mk = m
            for r in 0..<3 { mk[r][k] = t[r] }
            c[k] = det(mk) / d
        }
        return (c[0], c[1], c[2])
    }

    /// Slope and intercept of log y against log x.
    static func powerLaw(_ x: [Double], _ y: [Double]) -> (exponent: Double, coefficient: Double) {
        let lx = x.map(log), ly = y.map(log)
        let mx = lx.reduce(0, +) / Double(lx.count), my = ly.reduce(0, +) / Double(ly.count)
        var sxy = 0.0, sxx = 0.0
        for (a, b) in zip(lx, ly) { sxy += (a - mx) * (b - my); sxx += (a - mx) * (a - mx) }
        let slope = sxy / sxx
        return (slope, exp(my - slope * mx))
    }

    static func model(schedules names: [String] = ["matched", "fixed"], budgets: [Double] = [1e12, 3e12, 1e13, 3e13],
                      sizes: Int = 7) -> ReportModel {
        var schedules: [ScheduleResult] = [], curves: [RunCurve] = [], runs: [RunsTableRow] = []
        var seed: UInt64 = 12345
        func noise() -> Double {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Double(seed >> 11) / Double(1 << 53) - 0.5
        }
        for (si, name) in names.enumerated() {
            let penalty = si == 0 ? 0.0 : 0.05
            var points: [IsoFLOPPoint] = [], parabolas: [IsoFLOPProfile] = [], fitRuns: [FitRun] = []
            var best: [Optimum] = [], minima: [Optimum] = []
            for c in budgets {
                let centre = (c / 120).squareRoot()
                var profile: [IsoFLOPPoint] = []
                for k in 0..<sizes {
                    let n = centre * pow(4, Double(2 * k - (sizes - 1)) / Double(sizes - 1))
                    let d = c / (6 * n)
                    let final = loss(parameters: n, tokens: d) + penalty * (1 - d / (c / 6 / centre * 4))
                    profile.append(IsoFLOPPoint(budget: c, parameters: n, loss: final))
                    let id = runs.count + 1
                    let steps = max(10, Int(d / batchTokens))
                    let rows: [MetricRow] = stride(from: 1, through: steps, by: max(1, steps / 60)).map { s in
                        let t = Double(s) * batchTokens
                        return MetricRow(run: 0, step: s, tokens: Int(t), flops: 6 * n * t, lr: 1e-3, trainLoss:
                            loss(parameters: n, tokens: t) + penalty * (1 - Double(s) / Double(steps)) + 0.08 * noise(),
                            evalLoss: s % 10 == 0 ? loss(parameters: n, tokens: t) : nil)
                    }
                    curves.append(RunCurve(runID: id, sweep: "synthetic", schedule: name, budget: c, parameters: n, rows: rows))
                    fitRuns.append(FitRun(id: "\(id)", budget: c, parameters: n, tokens: d, flops: c, finalLoss: final,
                                          curve: rows.compactMap { r in
                                              r.evalLoss.map { CurvePoint(flops: r.flops, tokens: Double(r.tokens), loss: $0) }
                                          }))
                    runs.append(RunsTableRow(
                        id: id, sweep: "synthetic", key: "\(name) C=\(c) k=\(k)", schedule: name, budget: c,
                        d: 32 * (k + 1), layers: k / 2 + 1, headSize: 32, parameters: Int(n), nonEmbeddingParameters: Int(n),
                        flopsPerToken: 6 * n, flopsPerToken6N: 6 * n, steps: steps, tokens: Int(d), flops: c,
                        epochs: d / 5e6, peakLR: 3e-3 / Double(k + 1), seed: 1, status: "done",
                        finalTrainLoss: final, finalEvalLoss: final, wallSeconds: c / 2e9))
                }
                points += profile
                let (c0, c1, c2) = parabola(profile.map { log($0.parameters) }, profile.map(\.loss))
                let fitted = ParabolaCoefficients(c0: c0, c1: c1, c2: c2), nOpt = exp(fitted.vertex)
                let sizes = profile.map(\.parameters)
                let p = IsoFLOPProfile(budget: c, runs: sizes.count, parameterRange: sizes.min()!...sizes.max()!,
                                       tokenRange: c / (6 * sizes.max()!)...c / (6 * sizes.min()!), lossVsLogParameters: fitted,
                                       lossVsLogTokens: ParabolaCoefficients(c0: .nan, c1: .nan, c2: .nan),
                                       optimalParameters: nOpt, optimalTokens: c / (6 * nOpt),
                                       lossAtOptimum: fitted.value(at: fitted.vertex), included: true)
                parabolas.append(p)
                minima.append(p.optimum)
                let lowest = profile.min { $0.loss < $1.loss }!
                best.append(Optimum(budget: c, parameters: lowest.parameters, tokens: c / (6 * lowest.parameters),
                                    loss: lowest.loss))
            }
            func approach(_ label: String, _ opt: [Optimum], keep: Bool) -> ApproachResult {
                let n = powerLaw(opt.map(\.budget), opt.map(\.parameters))
                let d = powerLaw(opt.map(\.budget), opt.map(\.tokens))
                return ApproachResult(name: label, optima: keep ? opt : [],
                                      a: Estimate(value: n.exponent, interval95: Interval(lower: n.exponent - 0.04, upper: n.exponent + 0.05)),
                                      nCoefficient: n.coefficient,
                                      b: Estimate(value: d.exponent, interval95: Interval(lower: d.exponent - 0.05, upper: d.exponent + 0.04)),
                                      dCoefficient: d.coefficient)
            }
            var result = ScheduleResult(schedule: name, points: points, parabolas: parabolas, approaches: [
                approach("Approach 1", best, keep: true), approach("Approach 2", minima, keep: true),
                approach("Approach 3", minima.map { Optimum(budget: $0.budget, parameters: $0.parameters * 1.1,
                                                            tokens: $0.tokens / 1.1, loss: $0.loss) }, keep: false),
            ])
            result.envelope = (try? fitApproach1(fitRuns, convention: .total))?.envelope ?? []
            schedules.append(result)
        }
        let horizon = [1.0, 1.5, 2.0, 5.0].map { cycle in
            let steps = (1...200).map { Double($0 * 5) }
            return HorizonCurve(cycle: cycle, steps: steps, loss: steps.map { s in
                loss(parameters: 2e5, tokens: s * batchTokens) + 0.04 * (cycle - 1) * s / 1000 + 0.05 * noise()
            })
        }
        return ReportModel(title: "isoflop report (synthetic data)",
                           notes: ["Synthetic losses L = 2 + 60/N^0.34 + 60/D^0.34; the true exponents are a = b = 0.5.",
                                   "FLOPs counted as 6ND here."],
                           schedules: schedules, curves: curves, horizon: horizon, runs: runs)
    }

    /// The same sweep half done, as `sweep run --report` writes it: budgets 1e13 and 3e13 still
    /// running (no points, curves or optima yet), the page stamped and reloading every minute.
    static func partial() -> ReportModel {
        var m = model()
        let pending: Set<Double> = [1e13, 3e13]
        for i in m.runs.indices where pending.contains(m.runs[i].budget) {
            m.runs[i].status = i % 4 == 0 ? "running" : "planned"
            m.runs[i].finalTrainLoss = nil
            m.runs[i].finalEvalLoss = nil
            m.runs[i].wallSeconds = nil
        }
        let pendingRuns = Set(m.curves.filter { pending.contains($0.budget) }.map { "\($0.runID)" })
        m.curves.removeAll { pending.contains($0.budget) }
        for s in m.schedules.indices {
            m.schedules[s].points.removeAll { pending.contains($0.budget) }
            m.schedules[s].parabolas.removeAll { pending.contains($0.budget) }
            m.schedules[s].envelope.removeAll { pendingRuns.contains($0.run) }
            for a in m.schedules[s].approaches.indices {
                m.schedules[s].approaches[a].optima.removeAll { pending.contains($0.budget) }
            }
        }
        m.notes.append("Budgets with runs still to come are left out of the fits: 1e13, 3e13.")
        m.written = Date(timeIntervalSince1970: 1_800_000_000)
        m.refreshSeconds = 60
        return m
    }
}
