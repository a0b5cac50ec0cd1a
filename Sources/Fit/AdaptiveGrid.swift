// The arithmetic of grids that follow the optimum: each finished budget's parabola vertex in
// ln N (approach 2's), N_opt predicted at the next budget from the vertices so far, and on which
// side a budget whose vertex sits near the edge of its sizes needs more shapes.
import Foundation
import Tensor

/// One finished budget's isoFLOP profile, summarised by its parabola in ln N.
public struct ProfileVertex: Codable, Equatable, Sendable {
    public var budget: Double
    /// exp of the vertex of loss = c0 + c1 ln N + c2 (ln N)²; nil when the parabola opens downward.
    public var parameters: Double?
    /// The smallest and largest N of the profile.
    public var lowest: Double
    public var highest: Double
    /// Which end had the lower loss (for a parabola without a minimum).
    public var lowerAtSmallEnd: Bool

    /// The vertex's place among the sizes: 0 at the smallest N, 1 at the largest, in ln N.
    public var position: Double? {
        parameters.map { log($0 / lowest) / log(highest / lowest) }
    }
}

/// The side of a budget's sizes that needs more shapes.
public enum GridSide: String, Codable, Sendable {
    case below, above
}

/// The parabola in ln N through one budget's (N, loss) points (several seeds of a shape: pass their
/// combined loss once). Nil with fewer than three distinct sizes.
public func profileVertex(budget: Double, parameters: [Double], losses: [Double]) -> ProfileVertex? {
    guard parameters.count == losses.count, let lo = parameters.min(), let hi = parameters.max(), hi > lo,
          let p = fitParabola(x: parameters.map(log), y: losses, weights: parameters.map { _ in 1 }) else { return nil }
    let small = losses[parameters.firstIndex(of: lo)!], large = losses[parameters.firstIndex(of: hi)!]
    return ProfileVertex(budget: budget, parameters: p.c2 > 0 ? exp(p.vertex) : nil, lowest: lo, highest: hi,
                         lowerAtSmallEnd: small <= large)
}

/// Where a finished budget needs extra shapes, and how many: one when its vertex lies in the
/// outer quarter of its sizes (in ln N), two when it lies beyond them or the parabola has no
/// minimum (then on the side of the lower loss). Nil when the vertex sits in the middle half.
public func extraShapes(_ v: ProfileVertex) -> (side: GridSide, count: Int)? {
    guard let t = v.position else { return (v.lowerAtSmallEnd ? .below : .above, 2) }
    if t < 0 { return (.below, 2) }
    if t > 1 { return (.above, 2) }
    if t < 0.25 { return (.below, 1) }
    if t > 0.75 { return (.above, 1) }
    return nil
}

/// N_opt predicted at `budget` and how: a least-squares line ln N_opt = ln k + a ln C through the
/// vertices of two or more finished budgets (approach 2 so far); through one vertex, the config's
/// exponent; with none, the config's coefficient × C^exponent.
public func predictOptimum(budget: Double, vertices: [ProfileVertex], coefficient: Double,
                           exponent: Double) -> (parameters: Double, how: String) {
    let known = vertices.compactMap { v in v.parameters.map { (v.budget, $0) } }.sorted { $0.0 < $1.0 }
    let names = known.map { formatFLOPs($0.0) }.joined(separator: ", ")
    if known.count >= 2, let line = fitLine(x: known.map { log($0.0) }, y: known.map { log($0.1) }, weights: known.map { _ in 1 }) {
        return (exp(line.intercept + line.slope * log(budget)),
                String(format: "approach 2 over %@ (a = %.2f)", names, line.slope))
    }
    if let (c, n) = known.first {
        return (n * pow(budget / c, exponent), String(format: "the vertex at %@ and the config's exponent %.2f", names, exponent))
    }
    return (coefficient * pow(budget, exponent), String(format: "the config's %.3g × C^%.2f", coefficient, exponent))
}

