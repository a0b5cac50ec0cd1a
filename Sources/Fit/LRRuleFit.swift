// The peak-learning-rate rule from a pilot sweep: each shape's best ln lr (a parabola in ln lr
// through its best trial and the two beside it), then ln lr = c + w·ln(d/128) + s·ln(steps/300)
// fitted to those by least squares, the batch term held at the config's value.
import Foundation
import Tensor

/// One trained run of the pilot: a shape at one budget under one peak LR.
public struct LRTrial: Codable, Equatable, Sendable {
    public var budget: Double
    /// Width and steps enter the rule; layers and head size only name the shape.
    public var d: Int
    public var layers: Int
    public var headSize: Int
    public var steps: Int
    public var lr: Double
    public var loss: Double

    public init(budget: Double, d: Int, layers: Int, headSize: Int, steps: Int, lr: Double, loss: Double) {
        self.budget = budget
        self.d = d
        self.layers = layers
        self.headSize = headSize
        self.steps = steps
        self.lr = lr
        self.loss = loss
    }
}

/// Where a shape's best LR lies among the LRs tried.
public enum LREdge: String, Codable, Sendable {
    /// The smallest LR tried was the best: the optimum may be lower still.
    case low
    /// The largest LR tried was the best.
    case high
}

/// The best peak LR of one shape at one budget.
public struct BestLR: Codable, Equatable, Sendable {
    public var budget: Double
    public var d: Int
    public var layers: Int
    public var headSize: Int
    public var steps: Int
    /// ln of the best LR: the parabola's vertex, or the best trial's ln lr at an edge.
    public var lnLR: Double
    /// The best trial's loss.
    public var loss: Double
    /// Set when the best trial is the smallest or largest LR tried (no vertex between neighbours).
    public var edge: LREdge?
    /// The trials, in increasing LR.
    public var trials: [LRTrial]

    public init(budget: Double, d: Int, layers: Int, headSize: Int, steps: Int, lnLR: Double, loss: Double,
                edge: LREdge?, trials: [LRTrial]) {
        self.budget = budget
        self.d = d
        self.layers = layers
        self.headSize = headSize
        self.steps = steps
        self.lnLR = lnLR
        self.loss = loss
        self.edge = edge
        self.trials = trials
    }
}

/// The fitted rule ln lr = intercept + width·ln(d/128) + steps·ln(steps/300) + batchTerm, and
/// how far each shape's best ln lr lies from it.
public struct LRRuleFit: Codable, Equatable, Sendable {
    public var intercept: Double
    public var width: Double
    public var steps: Double
    /// The batch term held fixed (the config's batch8·log_4(32/batch)).
    public var batchTerm: Double
    /// Best ln lr minus the rule's, per shape, in the order of the points fitted.
    public var residuals: [Double]
    /// Root mean square of the residuals.
    public var rms: Double
}

public enum LRRuleError: Error, CustomStringConvertible, Equatable {
    case tooFewTrials(String)
    case degenerate(String)

    public var description: String {
        switch self {
        case .tooFewTrials(let s), .degenerate(let s): return "learning-rate rule: \(s)"
        }
    }
}

/// x of the minimum of the parabola through three points (x strictly increasing); nil when they
/// lie on a line or the parabola opens downward. By Lagrange interpolation the vertex is
/// x2 − ½·[(x2−x1)²(y2−y3) − (x2−x3)²(y2−y1)] / [(x2−x1)(y2−y3) − (x2−x3)(y2−y1)].
public func parabolaMinimum(_ x: (Double, Double, Double), _ y: (Double, Double, Double)) -> Double? {
    let (x1, x2, x3) = x, (y1, y2, y3) = y
    // Second divided difference: the parabola's leading coefficient.
    let curvature = ((y3 - y2) / (x3 - x2) - (y2 - y1) / (x2 - x1)) / (x3 - x1)
    guard curvature > 0, curvature.isFinite else { return nil }
    let num = (x2 - x1) * (x2 - x1) * (y2 - y3) - (x2 - x3) * (x2 - x3) * (y2 - y1)
    let den = (x2 - x1) * (y2 - y3) - (x2 - x3) * (y2 - y1)
    return x2 - 0.5 * num / den
}

/// The best LR of one shape from its trials (at least one, all of one shape and budget). Non-finite
/// losses (diverged runs) count as worse than any finite one. With the best trial between two others,
/// the vertex of the parabola through the three in ln lr, kept between those two neighbours;
/// at an edge, the edge trial's ln lr and `edge` set.
public func bestLearningRate(_ trials: [LRTrial]) throws -> BestLR {
    guard let first = trials.first else { throw LRRuleError.tooFewTrials("a shape has no finished trials") }
    let sorted = trials.sorted { $0.lr < $1.lr }
    let score = { (t: LRTrial) in t.loss.isFinite ? t.loss : .infinity }
    let i = sorted.indices.min { score(sorted[$0]) < score(sorted[$1]) }!
    guard sorted[i].loss.isFinite else {
        throw LRRuleError.degenerate("every trial of d=\(first.d) L=\(first.layers) at \(formatFLOPs(first.budget)) diverged")
    }
    var best = BestLR(budget: first.budget, d: first.d, layers: first.layers, headSize: first.headSize, steps: first.steps,
                      lnLR: log(sorted[i].lr), loss: sorted[i].loss, edge: nil, trials: sorted)
    if i == 0 { best.edge = sorted.count > 1 ? .low : nil }
    if i == sorted.count - 1, sorted.count > 1 { best.edge = .high }
    guard best.edge == nil, sorted.count >= 3 else { return best }
    let x = (log(sorted[i - 1].lr), log(sorted[i].lr), log(sorted[i + 1].lr))
    // A diverged neighbour gives no parabola: the best trial's own LR stands.
    if sorted[i - 1].loss.isFinite, sorted[i + 1].loss.isFinite,
       let v = parabolaMinimum(x, (sorted[i - 1].loss, sorted[i].loss, sorted[i + 1].loss)) {
        best.lnLR = min(max(v, x.0), x.2)
    }
    return best
}

/// Least squares of ln lr − batchTerm = c + w·ln(d/128) + s·ln(steps/300) over the shapes' best
/// LRs. Needs three points that pin the plane: at least two widths and two run lengths not
/// tied to each other (e.g. the same shapes at two budgets).
public func fitLRRule(_ best: [BestLR], batchTerm: Double) throws -> LRRuleFit {
    guard best.count >= 3 else {
        throw LRRuleError.tooFewTrials("\(best.count) shapes; at least 3 (two widths at two budgets) are needed")
    }
    let rows = best.map { [1, log(Double($0.d) / 128), log(Double(max($0.steps, 1)) / 300)] }
    let y = best.map { $0.lnLR - batchTerm }
    var normal = [[Double]](repeating: [0, 0, 0], count: 3), rhs = [0.0, 0, 0]
    for (r, v) in zip(rows, y) {
        for a in 0..<3 {
            rhs[a] += r[a] * v
            for b in 0..<3 { normal[a][b] += r[a] * r[b] }
        }
    }
    // A plane through collinear design points is not determined (e.g. one budget, where steps
    // fall as d grows): refuse rather than return an arbitrary split of the slope.
    guard let beta = solve3(normal, rhs), designIsFull(rows) else {
        throw LRRuleError.degenerate("the shapes' widths and steps do not separate the two slopes; tune on at least two budgets")
    }
    var fit = LRRuleFit(intercept: beta[0], width: beta[1], steps: beta[2], batchTerm: batchTerm, residuals: [], rms: 0)
    // The regression's own residuals; the rule's formula with these coefficients is `LRRule.lnPeak`.
    fit.residuals = zip(rows, y).map { r, v in v - (beta[0] + beta[1] * r[1] + beta[2] * r[2]) }
    fit.rms = (fit.residuals.reduce(0) { $0 + $1 * $1 } / Double(fit.residuals.count)).squareRoot()
    return fit
}

/// Whether the design's columns are independent, judged on the standardised design so the scale
/// of ln d and ln steps does not matter: the smallest singular value of the centred columns'
/// correlation matrix above 1e-6 (|correlation| < 1 − 1e-6).
private func designIsFull(_ rows: [[Double]]) -> Bool {
    let n = Double(rows.count)
    let u = rows.map { $0[1] }, v = rows.map { $0[2] }
    let mu = u.reduce(0, +) / n, mv = v.reduce(0, +) / n
    let suu = u.reduce(0) { $0 + ($1 - mu) * ($1 - mu) }, svv = v.reduce(0) { $0 + ($1 - mv) * ($1 - mv) }
    let suv = zip(u, v).reduce(0) { $0 + ($1.0 - mu) * ($1.1 - mv) }
    guard suu > 1e-12, svv > 1e-12 else { return false }
    return abs(suv) / (suu * svv).squareRoot() < 1 - 1e-6
}
