// Limited-memory BFGS with a line search meeting the strong Wolfe conditions
// (Nocedal & Wright, Numerical Optimization, 2nd ed., Algorithms 7.4, 3.5 and 3.6).

/// An objective: writes the gradient at `x` into `gradient` and returns the value.
/// Both buffers have the problem's dimension.
public typealias DifferentiableObjective = (_ x: UnsafePointer<Double>, _ gradient: UnsafeMutablePointer<Double>) -> Double

public struct LBFGSOptions: Sendable {
    /// Number of (s, y) pairs kept.
    public var memory = 10
    public var maxIterations = 2000
    /// Stop when the largest gradient component is at most this.
    public var gradientTolerance = 1e-10
    /// Stop when an iteration lowers f by at most this times |f|.
    public var relativeDecreaseTolerance = 1e-15
    /// Sufficient-decrease and curvature constants of the Wolfe conditions.
    public var c1 = 1e-4
    public var c2 = 0.9
    public var maxLineSearchEvaluations = 40

    public init() {}
}

public struct LBFGSResult: Sendable {
    public enum Stop: String, Sendable {
        case gradient, noDecrease, iterations, lineSearch, nonFinite
    }
    public var x: [Double]
    public var value: Double
    public var iterations: Int
    public var evaluations: Int
    public var stop: Stop

    /// True when it stopped at a (numerically) stationary point rather than running out of steps.
    public var converged: Bool { stop == .gradient || stop == .noDecrease }
}

/// Minimises `objective` from `start`. Buffers are allocated once per call; the iterations
/// allocate nothing.
public func minimizeLBFGS(from start: [Double], options: LBFGSOptions = LBFGSOptions(),
                          objective: DifferentiableObjective) -> LBFGSResult {
    let n = start.count, m = max(1, options.memory)
    var x = start
    var g = [Double](repeating: 0, count: n)
    var xNew = x, gNew = g, d = g
    var s = [Double](repeating: 0, count: m * n), y = s
    var rho = [Double](repeating: 0, count: m), alpha = rho
    var stored = 0, newest = -1
    var evaluations = 1
    var f = x.withUnsafeBufferPointer { xp in g.withUnsafeMutableBufferPointer { objective(xp.baseAddress!, $0.baseAddress!) } }
    func finish(_ stop: LBFGSResult.Stop, _ iterations: Int) -> LBFGSResult {
        LBFGSResult(x: x, value: f, iterations: iterations, evaluations: evaluations, stop: stop)
    }
    guard f.isFinite else { return finish(.nonFinite, 0) }

    var iteration = 0
    while iteration < options.maxIterations {
        var gMax = 0.0
        for i in 0..<n { gMax = max(gMax, abs(g[i])) }
        if gMax <= options.gradientTolerance { return finish(.gradient, iteration) }

        twoLoopDirection(&d, gradient: g, s: s, y: y, rho: rho, alpha: &alpha, stored: stored, newest: newest, memory: m)
        var slope = 0.0
        for i in 0..<n { slope += d[i] * g[i] }
        if !(slope < 0) {
            // Not a descent direction (the curvature pairs went stale): restart from steepest descent.
            stored = 0
            for i in 0..<n { d[i] = -g[i] }
            slope = 0
            for i in 0..<n { slope -= g[i] * g[i] }
        }
        let firstStep = stored == 0 ? min(1, 1 / gMax) : 1

        let search = strongWolfeSearch(x: x, f: f, slope: slope, direction: d, firstStep: firstStep,
                                       xNew: &xNew, gNew: &gNew, options: options, objective: objective)
        evaluations += search.evaluations
        guard let fNew = search.value else {
            if stored > 0 { stored = 0; iteration += 1; continue }
            return finish(.lineSearch, iteration)
        }
        iteration += 1
        let slot = (newest + 1) % m
        var sy = 0.0
        for i in 0..<n {
            s[slot * n + i] = xNew[i] - x[i]
            y[slot * n + i] = gNew[i] - g[i]
            sy += s[slot * n + i] * y[slot * n + i]
        }
        if sy > 0 {
            rho[slot] = 1 / sy
            newest = slot
            stored = min(stored + 1, m)
        }
        let decrease = f - fNew
        swap(&x, &xNew)
        swap(&g, &gNew)
        f = fNew
        if decrease <= options.relativeDecreaseTolerance * abs(f) { return finish(.noDecrease, iteration) }
    }
    return finish(.iterations, iteration)
}

/// d = -H g by the two-loop recursion (Nocedal & Wright, Algorithm 7.4), H the inverse-Hessian
/// approximation of the `stored` newest pairs (s_k, y_k) with rho_k = 1 / (y_k·s_k), scaled by
/// gamma = s·y / y·y of the newest pair (eq. 7.20). `s` and `y` are rings of `memory` rows of n,
/// `newest` the row written last; `alpha` is scratch of `memory`.
private func twoLoopDirection(_ d: inout [Double], gradient g: [Double], s: [Double], y: [Double], rho: [Double],
                              alpha: inout [Double], stored: Int, newest: Int, memory m: Int) {
    let n = g.count
    for i in 0..<n { d[i] = -g[i] }
    var k = newest
    for _ in 0..<stored {
        var dot = 0.0
        for i in 0..<n { dot += s[k * n + i] * d[i] }
        alpha[k] = rho[k] * dot
        for i in 0..<n { d[i] -= alpha[k] * y[k * n + i] }
        k = k == 0 ? m - 1 : k - 1
    }
    guard stored > 0 else { return }
    var sy = 0.0, yy = 0.0
    for i in 0..<n { sy += s[newest * n + i] * y[newest * n + i]; yy += y[newest * n + i] * y[newest * n + i] }
    let gamma = sy / yy
    for i in 0..<n { d[i] *= gamma }
    k = (newest - stored + 1 + m) % m
    for _ in 0..<stored {
        var dot = 0.0
        for i in 0..<n { dot += y[k * n + i] * d[i] }
        let beta = rho[k] * dot
        for i in 0..<n { d[i] += (alpha[k] - beta) * s[k * n + i] }
        k = (k + 1) % m
    }
}

/// Finds t > 0 along `direction` meeting the strong Wolfe conditions; on success `xNew` and
/// `gNew` hold the accepted point and its gradient, and the value is returned.
private func strongWolfeSearch(x: [Double], f: Double, slope: Double, direction d: [Double], firstStep: Double,
                               xNew: inout [Double], gNew: inout [Double], options: LBFGSOptions,
                               objective: DifferentiableObjective) -> (value: Double?, evaluations: Int) {
    let n = x.count
    var evaluations = 0
    // φ(t) = f(x + t d), returned with φ'(t); leaves the point and gradient in xNew, gNew.
    func phi(_ t: Double) -> (Double, Double) {
        evaluations += 1
        for i in 0..<n { xNew[i] = x[i] + t * d[i] }
        let v = xNew.withUnsafeBufferPointer { xp in gNew.withUnsafeMutableBufferPointer { objective(xp.baseAddress!, $0.baseAddress!) } }
        var dv = 0.0
        for i in 0..<n { dv += gNew[i] * d[i] }
        return (v, dv)
    }
    let sufficient = options.c1 * slope, curvature = -options.c2 * slope
    var tPrev = 0.0, fPrev = f, dPrev = slope
    var t = firstStep
    var bracket: (lo: Double, fLo: Double, dLo: Double, hi: Double, fHi: Double, dHi: Double)? = nil
    while evaluations < options.maxLineSearchEvaluations {
        let (ft, dt) = phi(t)
        if !ft.isFinite || !dt.isFinite {
            t = tPrev + 0.5 * (t - tPrev)  // stepped out of the domain: shrink toward the last good step
            continue
        }
        if ft > f + t * sufficient || (evaluations > 1 && ft >= fPrev) {
            bracket = (tPrev, fPrev, dPrev, t, ft, dt); break
        }
        if abs(dt) <= curvature { return (ft, evaluations) }
        if dt >= 0 { bracket = (t, ft, dt, tPrev, fPrev, dPrev); break }
        tPrev = t; fPrev = ft; dPrev = dt
        t *= 4
    }
    guard var b = bracket else { return (nil, evaluations) }
    // Zoom: shrink [lo, hi] (lo the best point meeting sufficient decrease) by safeguarded cubic steps.
    while evaluations < options.maxLineSearchEvaluations {
        let width = b.hi - b.lo
        if abs(width) <= 1e-16 * max(1, abs(b.lo)) { break }
        var t = cubicMinimizer(b.lo, b.fLo, b.dLo, b.hi, b.fHi, b.dHi)
        let low = min(b.lo, b.hi) + 0.1 * abs(width), high = max(b.lo, b.hi) - 0.1 * abs(width)
        if !t.isFinite || t < low || t > high { t = b.lo + 0.5 * width }
        let (ft, dt) = phi(t)
        if !ft.isFinite || ft > f + t * sufficient || ft >= b.fLo {
            b.hi = t; b.fHi = ft.isFinite ? ft : .greatestFiniteMagnitude; b.dHi = dt.isFinite ? dt : 0
        } else {
            if abs(dt) <= curvature { return (ft, evaluations) }
            if dt * width >= 0 { b.hi = b.lo; b.fHi = b.fLo; b.dHi = b.dLo }
            b.lo = t; b.fLo = ft; b.dLo = dt
        }
    }
    // The interval collapsed: accept the best point found if it lowered f at all.
    if b.lo > 0 && b.fLo < f {
        let (ft, _) = phi(b.lo)
        return (ft, evaluations)
    }
    return (nil, evaluations)
}

/// Minimiser of the cubic matching values and slopes at a and b (Nocedal & Wright eq. 3.59).
private func cubicMinimizer(_ a: Double, _ fa: Double, _ da: Double, _ b: Double, _ fb: Double, _ db: Double) -> Double {
    let d1 = da + db - 3 * (fa - fb) / (a - b)
    let disc = d1 * d1 - da * db
    guard disc >= 0 else { return .nan }
    let d2 = (b > a ? 1.0 : -1.0) * disc.squareRoot()
    return b - (b - a) * (db + d2 - d1) / (db - da + 2 * d2)
}
