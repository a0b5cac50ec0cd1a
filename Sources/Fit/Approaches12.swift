// Approaches 1 and 2 of Hoffmann et al. 2022 (sections 3.1 and 3.2): the lower envelope of the
// training curves, and a parabola per isoFLOP profile; each gives N_opt ∝ C^a and D_opt ∝ C^b.
import Foundation
import Tensor

/// y = coefficient · C^exponent, fitted as a line in log-log.
public struct PowerLaw: Codable, Equatable, Sendable {
    public var exponent: Double
    public var coefficient: Double

    public init(exponent: Double, coefficient: Double) {
        self.exponent = exponent
        self.coefficient = coefficient
    }

    public func value(at c: Double) -> Double { coefficient * pow(c, exponent) }

    init(_ line: Line) {
        exponent = line.slope
        coefficient = exp(line.intercept)
    }
}

// MARK: Approach 2

/// One budget's isoFLOP profile: the parabolas of final loss in ln N and in ln D, and their minima.
public struct IsoFLOPProfile: Codable, Equatable, Sendable {
    public var budget: Double
    public var runs: Int
    /// The sampled ranges of N and D at this budget.
    public var parameterRange: ClosedRange<Double>
    public var tokenRange: ClosedRange<Double>
    /// Final loss ≈ c0 + c1 ln N + c2 (ln N)², and likewise in ln D.
    public var lossVsLogParameters: ParabolaCoefficients
    public var lossVsLogTokens: ParabolaCoefficients
    /// The parabolas' minima (NaN where a parabola opens downward).
    public var optimalParameters: Double
    public var optimalTokens: Double
    public var lossAtOptimum: Double
    /// True when both minima lie inside the sampled ranges; only these budgets enter the fit.
    public var included: Bool
    /// The lowest final loss of the budget's runs (nil in profiles written before it was kept).
    public var bestLoss: Double?

    public init(budget: Double, runs: Int, parameterRange: ClosedRange<Double>, tokenRange: ClosedRange<Double>,
                lossVsLogParameters: ParabolaCoefficients, lossVsLogTokens: ParabolaCoefficients,
                optimalParameters: Double, optimalTokens: Double, lossAtOptimum: Double, included: Bool,
                bestLoss: Double? = nil) {
        self.bestLoss = bestLoss
        self.budget = budget
        self.runs = runs
        self.parameterRange = parameterRange
        self.tokenRange = tokenRange
        self.lossVsLogParameters = lossVsLogParameters
        self.lossVsLogTokens = lossVsLogTokens
        self.optimalParameters = optimalParameters
        self.optimalTokens = optimalTokens
        self.lossAtOptimum = lossAtOptimum
        self.included = included
    }

    /// Final loss on this budget's parabola in ln N at N = `parameters`.
    public func loss(atParameters parameters: Double) -> Double { lossVsLogParameters.value(at: log(parameters)) }

    /// The parabolas' minimum as this budget's optimum.
    public var optimum: Optimum {
        Optimum(budget: budget, parameters: optimalParameters, tokens: optimalTokens, loss: lossAtOptimum)
    }
}

public struct Approach2Fit: Codable, Equatable, Sendable {
    public var optimalParameters: PowerLaw
    public var optimalTokens: PowerLaw
    public var profiles: [IsoFLOPProfile]
    /// Budgets left out, and why.
    public var warnings: [String]

    /// The profiles whose minima entered the fit.
    public var includedProfiles: [IsoFLOPProfile] { profiles.filter(\.included) }
}

/// Approach 2 over the budget groups. `weights` are per-run multiplicities (bootstrap); a budget
/// whose weighted runs have fewer than 3 distinct sizes, or whose minimum falls outside its
/// sampled range, is left out with a warning. Throws when fewer than 2 budgets remain.
public func fitApproach2(_ runs: [FitRun], groups: [BudgetGroup], convention: ParameterConvention,
                         weights: [Double]? = nil) throws -> Approach2Fit {
    var profiles: [IsoFLOPProfile] = []
    var warnings: [String] = []
    var logC: [Double] = [], logNOpt: [Double] = [], logDOpt: [Double] = []
    for group in groups {
        let members = group.members.filter { (weights?[$0] ?? 1) > 0 }
        let x = members.map { log(runs[$0].parameters(for: convention)!) }
        let xd = members.map { log(runs[$0].tokens) }
        let y = members.map { runs[$0].finalLoss }
        let w = members.map { weights?[$0] ?? 1 }
        guard let pn = fitParabola(x: x, y: y, weights: w), let pd = fitParabola(x: xd, y: y, weights: w) else {
            warnings.append("budget \(formatFLOPs(group.budget)): fewer than 3 distinct sizes, left out")
            continue
        }
        let nRange = exp(x.min()!)...exp(x.max()!), dRange = exp(xd.min()!)...exp(xd.max()!)
        let nOpt = pn.c2 > 0 ? exp(pn.vertex) : .nan, dOpt = pd.c2 > 0 ? exp(pd.vertex) : .nan
        let inside = nRange.contains(nOpt) && dRange.contains(dOpt)
        if pn.c2 <= 0 || pd.c2 <= 0 {
            warnings.append("budget \(formatFLOPs(group.budget)): loss is not convex in the model size, left out")
        } else if !inside {
            warnings.append("budget \(formatFLOPs(group.budget)): fitted optimum N ≈ \(formatCount(nOpt)) lies outside "
                + "the sampled \(formatCount(nRange.lowerBound))–\(formatCount(nRange.upperBound)); "
                + "the grid does not bracket the optimum, left out")
        }
        profiles.append(IsoFLOPProfile(budget: group.budget, runs: members.count, parameterRange: nRange, tokenRange: dRange,
                                       lossVsLogParameters: pn, lossVsLogTokens: pd, optimalParameters: nOpt,
                                       optimalTokens: dOpt, lossAtOptimum: pn.c2 > 0 ? pn.value(at: pn.vertex) : .nan,
                                       included: inside, bestLoss: y.min()))
        if inside {
            logC.append(log(group.budget)); logNOpt.append(log(nOpt)); logDOpt.append(log(dOpt))
        }
    }
    let ones = [Double](repeating: 1, count: logC.count)
    guard logC.count >= 2, let lineN = fitLine(x: logC, y: logNOpt, weights: ones),
          let lineD = fitLine(x: logC, y: logDOpt, weights: ones) else {
        throw FitError.tooFewBracketedBudgets(approach: 2, kept: logC.count, total: groups.count)
    }
    return Approach2Fit(optimalParameters: PowerLaw(lineN), optimalTokens: PowerLaw(lineD), profiles: profiles, warnings: warnings)
}

/// What a residual bootstrap of approach 2 resamples: per run, its budget's parabola in ln N
/// (unweighted) at the run, and the run's residual and leverage. Runs of a budget with fewer
/// than 3 distinct sizes keep their loss (fitted = loss, residual 0, leverage 1).
public func approach2Residuals(_ runs: [FitRun], groups: [BudgetGroup],
                               convention: ParameterConvention) -> (fitted: [Double], residuals: [Double], leverages: [Double]) {
    var fitted = runs.map(\.finalLoss), residuals = [Double](repeating: 0, count: runs.count)
    var leverages = [Double](repeating: 1, count: runs.count)
    for group in groups {
        let x = group.members.map { log(runs[$0].parameters(for: convention)!) }
        let y = group.members.map { runs[$0].finalLoss }
        guard let p = fitParabola(x: x, y: y, weights: [Double](repeating: 1, count: x.count)),
              let h = parabolaLeverages(x: x) else { continue }
        for (k, i) in group.members.enumerated() {
            fitted[i] = p.value(at: x[k])
            residuals[i] = y[k] - fitted[i]
            leverages[i] = h[k]
        }
    }
    return (fitted, residuals, leverages)
}

/// `123k`-style text for a parameter or token count.
public func formatCount(_ v: Double) -> String {
    guard v.isFinite else { return "\(v)" }
    switch abs(v) {
    case 1e9...: return String(format: "%.3gG", v / 1e9)
    case 1e6...: return String(format: "%.3gM", v / 1e6)
    case 1e3...: return String(format: "%.3gk", v / 1e3)
    default: return String(format: "%.3g", v)
    }
}

// MARK: Approach 1

/// A point of the lower envelope of loss against FLOPs: the run lowest at that FLOP count.
public struct EnvelopePoint: Codable, Equatable, Sendable {
    public var flops: Double
    public var parameters: Double
    public var tokens: Double
    public var loss: Double
    public var run: String
}

public struct Approach1Fit: Codable, Equatable, Sendable {
    public var optimalParameters: PowerLaw
    public var optimalTokens: PowerLaw
    public var envelope: [EnvelopePoint]
}

/// Approach 1: on `gridPoints` FLOP values spaced evenly in log between the smallest and largest
/// final FLOPs, the run with the lowest loss there (curves interpolated linearly in log FLOPs; a
/// run counts only between its first and last curve point) gives N and D; power laws are fitted
/// to those. Curves must be in training order. Runs with weight 0 are left out.
public func fitApproach1(_ runs: [FitRun], convention: ParameterConvention, weights: [Double]? = nil,
                         gridPoints: Int = 200) throws -> Approach1Fit {
    let active = runs.indices.filter { (weights?[$0] ?? 1) > 0 && runs[$0].curve.count >= 1 }
    guard !active.isEmpty else { throw FitError.noTrainingCurves }
    let finals = active.map { runs[$0].curve.last!.flops }
    let lo = log(finals.min()!), hi = log(finals.max()!)
    var envelope: [EnvelopePoint] = []
    for k in 0..<gridPoints {
        let logC = gridPoints == 1 ? hi : lo + (hi - lo) * Double(k) / Double(gridPoints - 1)
        var best: EnvelopePoint? = nil
        for i in active {
            guard let (loss, tokens) = interpolate(runs[i].curve, logFLOPs: logC) else { continue }
            if best == nil || loss < best!.loss {
                best = EnvelopePoint(flops: exp(logC), parameters: runs[i].parameters(for: convention)!,
                                     tokens: tokens, loss: loss, run: runs[i].id)
            }
        }
        if let best { envelope.append(best) }
    }
    let x = envelope.map { log($0.flops) }, ones = [Double](repeating: 1, count: envelope.count)
    guard let lineN = fitLine(x: x, y: envelope.map { log($0.parameters) }, weights: ones),
          let lineD = fitLine(x: x, y: envelope.map { log($0.tokens) }, weights: ones) else {
        throw FitError.noTrainingCurves
    }
    return Approach1Fit(optimalParameters: PowerLaw(lineN), optimalTokens: PowerLaw(lineD), envelope: envelope)
}

/// Loss and tokens of a curve at exp(logFLOPs), linear in log FLOPs; nil outside the curve.
private func interpolate(_ curve: [CurvePoint], logFLOPs x: Double) -> (loss: Double, tokens: Double)? {
    let c = exp(x)
    guard let first = curve.first, let last = curve.last, c >= first.flops * (1 - 1e-12), c <= last.flops * (1 + 1e-12) else {
        return nil
    }
    var lo = 0, hi = curve.count - 1
    while hi - lo > 1 {
        let mid = (lo + hi) / 2
        if curve[mid].flops <= c { lo = mid } else { hi = mid }
    }
    let p = curve[lo], q = curve[hi]
    guard lo != hi, q.flops > p.flops else { return (p.loss, p.tokens) }
    let t = min(1, max(0, (x - log(p.flops)) / (log(q.flops) - log(p.flops))))
    return (p.loss + t * (q.loss - p.loss), p.tokens + t * (q.tokens - p.tokens))
}
