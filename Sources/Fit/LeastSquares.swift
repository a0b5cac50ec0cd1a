// Weighted least squares for the straight lines (power laws in log-log) and parabolas of
// approaches 1 and 2. Weights are bootstrap multiplicities.
import Foundation

/// y = intercept + slope x.
public struct Line: Codable, Equatable, Sendable {
    public var slope: Double
    public var intercept: Double
}

/// y = c0 + c1 x + c2 x².
public struct ParabolaCoefficients: Codable, Equatable, Sendable {
    public var c0: Double
    public var c1: Double
    public var c2: Double

    public init(c0: Double, c1: Double, c2: Double) {
        self.c0 = c0
        self.c1 = c1
        self.c2 = c2
    }

    public func value(at x: Double) -> Double { c0 + x * (c1 + x * c2) }
    /// The vertex x = −c1 / (2 c2); a minimum only when c2 > 0.
    public var vertex: Double { -c1 / (2 * c2) }
}

/// Weighted least-squares line; nil when fewer than 2 distinct x carry weight.
func fitLine(x: [Double], y: [Double], weights w: [Double]) -> Line? {
    var sw = 0.0, sx = 0.0, sy = 0.0
    for i in x.indices { sw += w[i]; sx += w[i] * x[i]; sy += w[i] * y[i] }
    guard sw > 0 else { return nil }
    let mx = sx / sw, my = sy / sw
    var sxx = 0.0, sxy = 0.0
    for i in x.indices { sxx += w[i] * (x[i] - mx) * (x[i] - mx); sxy += w[i] * (x[i] - mx) * (y[i] - my) }
    guard sxx > 1e-300 else { return nil }
    let slope = sxy / sxx
    return Line(slope: slope, intercept: my - slope * mx)
}

/// Weighted least-squares parabola, solved in x centred on its weighted mean for conditioning;
/// nil when fewer than 3 distinct x carry weight.
func fitParabola(x: [Double], y: [Double], weights w: [Double]) -> ParabolaCoefficients? {
    let distinct = Set(x.indices.filter { w[$0] > 0 }.map { x[$0] })
    guard distinct.count >= 3 else { return nil }
    var sw = 0.0, sx = 0.0
    for i in x.indices { sw += w[i]; sx += w[i] * x[i] }
    let m = sx / sw
    // Normal equations in u = x − m: moments S_k = Σ w u^k, T_k = Σ w u^k y.
    var s = [Double](repeating: 0, count: 5), t = [Double](repeating: 0, count: 3)
    for i in x.indices {
        let u = x[i] - m
        var p = w[i]
        for k in 0..<5 {
            if k < 3 { t[k] += p * y[i] }
            s[k] += p
            p *= u
        }
    }
    guard let p = solve3([[s[0], s[1], s[2]], [s[1], s[2], s[3]], [s[2], s[3], s[4]]], t) else { return nil }
    return ParabolaCoefficients(c0: p[0] - p[1] * m + p[2] * m * m, c1: p[1] - 2 * p[2] * m, c2: p[2])
}

/// Leverages h_i (diagonal of the hat matrix) of an unweighted least-squares parabola at `x`;
/// nil when fewer than 3 distinct x.
public func parabolaLeverages(x: [Double]) -> [Double]? {
    guard Set(x).count >= 3 else { return nil }
    let m = x.reduce(0, +) / Double(x.count)
    var s = [Double](repeating: 0, count: 5)
    for v in x {
        var p = 1.0
        for k in 0..<5 { s[k] += p; p *= v - m }
    }
    let gram = [[s[0], s[1], s[2]], [s[1], s[2], s[3]], [s[2], s[3], s[4]]]
    var h: [Double] = []
    for v in x {
        let row = [1, v - m, (v - m) * (v - m)]
        guard let g = solve3(gram, row) else { return nil }
        h.append(row[0] * g[0] + row[1] * g[1] + row[2] * g[2])
    }
    return h
}

/// Solves a 3×3 system by Gaussian elimination with partial pivoting; nil when singular.
func solve3(_ matrix: [[Double]], _ rhs: [Double]) -> [Double]? {
    var a = matrix, b = rhs
    for col in 0..<3 {
        let pivot = (col..<3).max { abs(a[$0][col]) < abs(a[$1][col]) }!
        guard abs(a[pivot][col]) > 1e-300 else { return nil }
        a.swapAt(col, pivot); b.swapAt(col, pivot)
        for row in (col + 1)..<3 {
            let factor = a[row][col] / a[col][col]
            for k in col..<3 { a[row][k] -= factor * a[col][k] }
            b[row] -= factor * b[col]
        }
    }
    var x = [0.0, 0.0, 0.0]
    for row in stride(from: 2, through: 0, by: -1) {
        var v = b[row]
        for k in (row + 1)..<3 { v -= a[row][k] * x[k] }
        x[row] = v / a[row][row]
    }
    return x
}
