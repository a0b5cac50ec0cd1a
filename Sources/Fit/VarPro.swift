// Approach 3 by variable projection (Golub & Pereyra 1973): for fixed (α, β) the law
// L = E + A·N^−α + B·D^−β is linear in (E, A, B), so only the (α, β) plane is searched.
//
// The objective is Chinchilla's, unchanged (`Approach3Objective`):
//     F(E, A, B, α, β) = Σ_i w_i Huber_δ(log(E + A N_i^−α + B D_i^−β) − log L_i),
// over E, A, B ≥ 0 (the closure of the L-BFGS fit's domain E = e^e, A = e^a, B = e^b). The profile
// φ(α, β) = min over (E, A, B) ≥ 0 of F is found by Gauss–Newton steps with Huber's IRLS weights,
// each step an exact three-variable non-negative least squares; inf φ = inf F, so this and the
// L-BFGS grid minimise the same function. By the envelope theorem (the bounds do not depend on α
// or β) ∂φ/∂α = ∂F/∂α at the inner optimum, so the outer search has exact gradients.
import Foundation

public struct VarProOptions: Sendable {
    /// The coarse grid of α and β on which φ is evaluated first.
    public var alphaGrid = stride(from: 0.1, through: 2.0, by: 0.1).map { $0 }
    public var betaGrid = stride(from: 0.1, through: 2.0, by: 0.1).map { $0 }
    /// The grid sees every k-th run, k = ⌈runs / gridRuns⌉: it only ranks the basins that the
    /// refinement, on every run, then descends.
    public var gridRuns = 5000
    /// How many of the grid's local minima (best first) are refined by L-BFGS on φ.
    public var refinements = 4
    public var lbfgs = LBFGSOptions()
    /// Gauss–Newton iterations per profile evaluation, at most.
    public var innerIterations = 300
    public var threads = ProcessInfo.processInfo.activeProcessorCount

    public init() {
        lbfgs.maxIterations = 200
        // φ is evaluated to about 1e-15 relative; asking L-BFGS for more only adds evaluations.
        lbfgs.relativeDecreaseTolerance = 1e-13
    }
}

/// Result of the variable-projection fit.
public struct VarProFit: Sendable {
    public var law: ParametricLaw
    /// F at the fit (the same Huber objective as the L-BFGS grid's).
    public var objective: Double
    /// Grid cells evaluated, local minima refined, and profile evaluations over everything.
    public var gridPoints: Int
    public var refined: Int
    public var profileEvaluations: Int
    /// Distinct refined optima (α, β), best first: the starts of bootstrap refits.
    public var endpoints: [[Double]]
}

/// Workspace for profile evaluations of one objective: N^−α and D^−β per run, and the current
/// (E, A, B), kept between calls as the next call's starting point. One per thread.
public final class ProfileSolver {
    let objective: Approach3Objective
    let maxIterations: Int
    /// N^−α and D^−β per run, for the current (α, β); raw buffers so the passes run without
    /// exclusivity checks on the class's storage.
    private let u: UnsafeMutablePointer<Double>, v: UnsafeMutablePointer<Double>
    private let count: Int
    /// (E, A, B) of the last profile evaluation; nil until the first, or after a failure.
    public var linear: SIMD3<Double>? = nil
    var evaluations = 0
    /// Gauss–Newton iterations over all evaluations.
    var iterations = 0

    public init(_ objective: Approach3Objective, maxIterations: Int = 300) {
        self.objective = objective
        self.maxIterations = maxIterations
        count = objective.logN.count
        u = .allocate(capacity: max(count, 1))
        v = .allocate(capacity: max(count, 1))
        u.initialize(repeating: 0, count: max(count, 1))
        v.initialize(repeating: 0, count: max(count, 1))
    }

    deinit {
        u.deallocate()
        v.deallocate()
    }

    /// φ(α, β) and its gradient (∂φ/∂α, ∂φ/∂β); (E, A, B) at the inner optimum are left in `linear`.
    /// +∞ outside 0 < α, β ≤ 5 or where no (E, A, B) gives every run a positive loss.
    public func profile(alpha: Double, beta: Double) -> (value: Double, dAlpha: Double, dBeta: Double) {
        evaluations += 1
        guard alpha > 0, beta > 0, alpha <= 5, beta <= 5 else { return (.infinity, 0, 0) }
        let u = self.u, v = self.v, count = self.count
        objective.logN.withUnsafeBufferPointer { ln in
            objective.logD.withUnsafeBufferPointer { ld in
                for i in 0..<count {
                    u[i] = exp(-alpha * ln[i])
                    v[i] = exp(-beta * ld[i])
                }
            }
        }
        var theta = linear ?? coldStart()
        var current = pass(theta)
        if !current.value.isFinite {
            theta = coldStart()
            current = pass(theta)
        }
        guard current.value.isFinite else { linear = nil; return (.infinity, 0, 0) }
        // Levenberg–Marquardt between Newton's step on Huber's quadratic zone (curvature 1 inside
        // ±δ, 0 beyond; the log's own curvature, below δ relative, left out) and the IRLS step,
        // whose weights δ/|r| beyond ±δ overstate the curvature there: Hessian newton + μ·outer,
        // μ → 0 after a step that descends, ×8 after one that does not; at μ = 1 it is IRLS, then
        // backtracked. Newton alone fails where fewer than 3 runs sit inside ±δ; IRLS alone creeps.
        var mu = 1.0 / 64
        for _ in 0..<maxIterations {
            iterations += 1
            var next: Pass? = nil, moved = SIMD3<Double>.zero
            while mu < 1 {
                let h = current.newton.adding(current.outer, times: mu)
                let target = nonNegativeLeastSquares3(h, h.times(theta) - current.gradient)
                let trial = pass(target)
                if trial.value < current.value {
                    next = trial; moved = target - theta
                    mu = max(mu / 8, 1e-9)
                    break
                }
                mu *= 8
            }
            if next == nil {
                let step = nonNegativeLeastSquares3(current.normal, current.rhs) - theta
                var t = 1.0
                for _ in 0..<40 {
                    let trial = pass(theta + t * step)
                    if trial.value <= current.value { next = trial; moved = t * step; break }
                    t *= 0.5
                }
                mu = 1.0 / 64
            }
            guard let accepted = next else { break }
            let decrease = current.value - accepted.value
            theta += moved
            current = accepted
            let scale = max(abs(theta.x), abs(theta.y), abs(theta.z))
            let largest = max(abs(moved.x), abs(moved.y), abs(moved.z))
            if decrease <= 1e-15 * current.value || largest <= 1e-13 * scale { break }
        }
        linear = theta
        return (current.value, current.dAlpha, current.dBeta)
    }

    /// One pass over the runs at (E, A, B) = θ: F, ∂F/∂α, ∂F/∂β, and the Gauss–Newton normal
    /// equations of the IRLS step. With r_i = log s_i − y_i and J_i = (1, u_i, v_i)/s_i (so J_i·θ = 1),
    /// the step minimises Σ w_i ω_i (J_i θ' − (1 − r_i))², ω_i = ψ(r_i)/r_i (1 inside ±δ, δ/|r_i| beyond).
    private struct Pass {
        var value: Double
        var dAlpha: Double
        var dBeta: Double
        var normal: Symmetric3
        var rhs: SIMD3<Double>
        /// Σ w ψ(r) J, Σ_{|r| ≤ δ} w J Jᵀ (the Gauss–Newton Hessian of Huber's quadratic zone) and
        /// Σ_{|r| > δ} w (δ/|r|) J Jᵀ (the rest of the IRLS matrix).
        var gradient: SIMD3<Double>
        var newton: Symmetric3
        var outer: Symmetric3
    }

    private func pass(_ theta: SIMD3<Double>) -> Pass {
        let delta = objective.delta
        let u = self.u, v = self.v, count = self.count
        var value = 0.0, dA = 0.0, dB = 0.0
        var newton = Symmetric3(), outer = Symmetric3(), gradient = SIMD3<Double>.zero, omegaJ = SIMD3<Double>.zero
        objective.logN.withUnsafeBufferPointer { ln in
        objective.logD.withUnsafeBufferPointer { ld in
        objective.logL.withUnsafeBufferPointer { ll in
        objective.weights.withUnsafeBufferPointer { w in
            for i in 0..<count where w[i] != 0 {
                let s = theta.x + theta.y * u[i] + theta.z * v[i]
                guard s > 0 else { value = .infinity; return }
                let r = log(s) - ll[i], m = abs(r)
                let j = SIMD3(1, u[i], v[i]) / s
                let psi: Double
                if m <= delta {
                    value += w[i] * 0.5 * r * r
                    psi = w[i] * r
                    newton.add(j, weight: w[i])
                    omegaJ += w[i] * j
                } else {
                    value += w[i] * delta * (m - 0.5 * delta)
                    psi = r > 0 ? w[i] * delta : -w[i] * delta
                    let omega = w[i] * delta / m
                    outer.add(j, weight: omega)
                    omegaJ += omega * j
                }
                gradient += psi * j
                dA += psi * j.y * ln[i]
                dB += psi * j.z * ld[i]
            }
        }}}}
        // IRLS normal equations: Σ ω J Jᵀ and Σ ω J (1 − r) = Σ ω J − Σ ψ J (ω r = ψ).
        return Pass(value: value, dAlpha: -theta.y * dA, dBeta: -theta.z * dB, normal: newton.adding(outer, times: 1),
                    rhs: omegaJ - gradient, gradient: gradient, newton: newton, outer: outer)
    }

    /// (E, A, B) minimising Σ w_i ((E + A u_i + B v_i)/L_i − 1)², relative least squares (≈ least
    /// squares in log loss), the starting point when there is none from a neighbouring (α, β).
    private func coldStart() -> SIMD3<Double> {
        var normal = Symmetric3(), rhs = SIMD3<Double>.zero
        let u = self.u, v = self.v, count = self.count
        objective.logL.withUnsafeBufferPointer { ll in
        objective.weights.withUnsafeBufferPointer { w in
            for i in 0..<count where w[i] != 0 {
                let j = SIMD3(1, u[i], v[i]) * exp(-ll[i])
                normal.add(j, weight: w[i])
                rhs += w[i] * j
            }
        }}
        var theta = nonNegativeLeastSquares3(normal, rhs)
        // Every run needs a positive predicted loss for the logarithm; E alone is a safe floor.
        if theta.x <= 0 { theta.x = 1e-3 * exp(objective.logL.min() ?? 0) }
        return theta
    }
}

/// A symmetric 3×3 matrix, accumulated as Σ weight · j jᵀ.
public struct Symmetric3: Sendable {
    public var a00 = 0.0, a01 = 0.0, a02 = 0.0, a11 = 0.0, a12 = 0.0, a22 = 0.0

    public init() {}

    public init(a00: Double, a01: Double, a02: Double, a11: Double, a12: Double, a22: Double) {
        self.a00 = a00; self.a01 = a01; self.a02 = a02; self.a11 = a11; self.a12 = a12; self.a22 = a22
    }

    mutating func add(_ j: SIMD3<Double>, weight: Double) {
        let wj = weight * j
        a00 += wj.x * j.x; a01 += wj.x * j.y; a02 += wj.x * j.z
        a11 += wj.y * j.y; a12 += wj.y * j.z; a22 += wj.z * j.z
    }

    func adding(_ other: Symmetric3, times k: Double) -> Symmetric3 {
        Symmetric3(a00: a00 + k * other.a00, a01: a01 + k * other.a01, a02: a02 + k * other.a02,
                   a11: a11 + k * other.a11, a12: a12 + k * other.a12, a22: a22 + k * other.a22)
    }

    func times(_ v: SIMD3<Double>) -> SIMD3<Double> {
        SIMD3(a00 * v.x + a01 * v.y + a02 * v.z, a01 * v.x + a11 * v.y + a12 * v.z, a02 * v.x + a12 * v.y + a22 * v.z)
    }
}

/// argmin over θ ≥ 0 of θᵀGθ − 2 bᵀθ, exactly: for each of the 8 sets of free variables, the
/// unconstrained minimiser on that face (Cramer's rule on the diagonally scaled system, the other
/// variables pinned at 0); the feasible one with the lowest value wins. That is the constrained
/// minimum, since it is the unconstrained minimum of its own face.
public func nonNegativeLeastSquares3(_ g: Symmetric3, _ b: SIMD3<Double>) -> SIMD3<Double> {
    let d = SIMD3(g.a00, g.a11, g.a22)
    guard d.x > 0, d.y > 0, d.z > 0 else { return .zero }
    let scale = 1 / SIMD3(d.x.squareRoot(), d.y.squareRoot(), d.z.squareRoot())
    let m01 = g.a01 * scale.x * scale.y, m02 = g.a02 * scale.x * scale.z, m12 = g.a12 * scale.y * scale.z
    let c = b * scale
    var best = SIMD3<Double>.zero, bestValue = 0.0
    for mask in 1..<8 {
        let f0 = mask & 1 != 0, f1 = mask & 2 != 0, f2 = mask & 4 != 0
        // The face's system with pinned rows and columns replaced by the identity.
        let r0 = SIMD3(1, f0 && f1 ? m01 : 0, f0 && f2 ? m02 : 0)
        let r1 = SIMD3(r0.y, 1, f1 && f2 ? m12 : 0)
        let r2 = SIMD3(r0.z, r1.z, 1)
        let rhs = SIMD3(f0 ? c.x : 0, f1 ? c.y : 0, f2 ? c.z : 0)
        let det = r0.x * (r1.y * r2.z - r1.z * r2.y) - r0.y * (r1.x * r2.z - r1.z * r2.x) + r0.z * (r1.x * r2.y - r1.y * r2.x)
        guard det > 1e-13 else { continue }
        let x = (rhs.x * (r1.y * r2.z - r1.z * r2.y) - r0.y * (rhs.y * r2.z - r1.z * rhs.z) + r0.z * (rhs.y * r2.y - r1.y * rhs.z)) / det
        let y = (r0.x * (rhs.y * r2.z - r1.z * rhs.z) - rhs.x * (r1.x * r2.z - r1.z * r2.x) + r0.z * (r1.x * rhs.z - rhs.y * r2.x)) / det
        let z = (r0.x * (r1.y * rhs.z - rhs.y * r2.y) - r0.y * (r1.x * rhs.z - rhs.y * r2.x) + rhs.x * (r1.x * r2.y - r1.y * r2.x)) / det
        guard x >= 0, y >= 0, z >= 0 else { continue }
        // At a face's stationary point the quadratic's value is −bᵀθ.
        let value = -(rhs.x * x + rhs.y * y + rhs.z * z)
        if value < bestValue { bestValue = value; best = SIMD3(x, y, z) }
    }
    return best * scale
}

/// Refines (α, β) from `start` by L-BFGS on φ; returns (α, β, φ, E, A, B) or nil.
func refineProfile(_ solver: ProfileSolver, from start: [Double], options: LBFGSOptions) -> (point: [Double], law: ParametricLaw, value: Double)? {
    let r = minimizeLBFGS(from: start, options: options) { x, g in
        let p = solver.profile(alpha: x[0], beta: x[1])
        g[0] = p.dAlpha; g[1] = p.dBeta
        return p.value
    }
    guard r.value.isFinite else { return nil }
    // Re-evaluate at the accepted point so (E, A, B) belong to it, not to the last trial step.
    let p = solver.profile(alpha: r.x[0], beta: r.x[1])
    guard p.value.isFinite, let l = solver.linear else { return nil }
    return (r.x, ParametricLaw(E: l.x, A: l.y, B: l.z, alpha: r.x[0], beta: r.x[1]), p.value)
}

/// Fits approach 3 by variable projection: φ on the coarse grid, then L-BFGS on φ from the grid's
/// best local minima. Minimises the same objective as `fitApproach3` (see the file's head).
public func fitApproach3VarPro(_ objective: Approach3Objective, options: VarProOptions = VarProOptions()) throws -> VarProFit {
    let alphas = options.alphaGrid, betas = options.betaGrid
    var grid = [Double](repeating: .infinity, count: alphas.count * betas.count)
    var evaluations = [Int](repeating: 0, count: alphas.count)
    let gridObjective = objective.subsample(stride: (objective.logN.count + options.gridRuns - 1) / max(options.gridRuns, 1))
    // One row of α per job, warm-started along β, so the result does not depend on the threads.
    grid.withUnsafeMutableBufferPointer { out in
        evaluations.withUnsafeMutableBufferPointer { counts in
            let base = out.baseAddress!, countBase = counts.baseAddress!
            forEachInParallel(alphas.count, threads: options.threads) { i in
                let solver = ProfileSolver(gridObjective, maxIterations: options.innerIterations)
                for (j, beta) in betas.enumerated() {
                    base[i * betas.count + j] = solver.profile(alpha: alphas[i], beta: beta).value
                }
                countBase[i] = solver.evaluations
            }
        }
    }
    let starts = gridMinima(grid, rows: alphas.count, columns: betas.count).prefix(max(1, options.refinements))
        .map { [alphas[$0 / betas.count], betas[$0 % betas.count]] }
    guard !starts.isEmpty else { throw FitError.noConvergence(approach: 3) }
    var (optima, refineEvaluations) = refineAll(gridObjective, starts: Array(starts), options: options)
    if gridObjective.logN.count < objective.logN.count, let best = optima.first {
        // The grid saw a subsample: its best basin's optimum starts the refinement on every run.
        let full = refineAll(objective, starts: [best.point], options: options)
        optima = full.optima
        refineEvaluations += full.evaluations
    }
    guard let best = optima.first else { throw FitError.noConvergence(approach: 3) }
    var endpoints: [[Double]] = []
    for o in optima where endpoints.allSatisfy({ p in zip(p, o.point).contains { abs($0 - $1) > 1e-3 } }) {
        endpoints.append(o.point)
    }
    return VarProFit(law: best.law, objective: best.value, gridPoints: grid.count, refined: starts.count,
                     profileEvaluations: evaluations.reduce(0, +) + refineEvaluations, endpoints: endpoints)
}

/// L-BFGS on φ from each start (in parallel): the optima found, best first, and the profile evaluations spent.
private func refineAll(_ objective: Approach3Objective, starts: [[Double]],
                       options: VarProOptions) -> (optima: [(point: [Double], law: ParametricLaw, value: Double)], evaluations: Int) {
    var found = [(point: [Double], law: ParametricLaw, value: Double)?](repeating: nil, count: starts.count)
    var counts = [Int](repeating: 0, count: starts.count)
    found.withUnsafeMutableBufferPointer { out in
        counts.withUnsafeMutableBufferPointer { c in
            let base = out.baseAddress!, countBase = c.baseAddress!
            forEachInParallel(starts.count, threads: options.threads) { k in
                let solver = ProfileSolver(objective, maxIterations: options.innerIterations)
                base[k] = refineProfile(solver, from: starts[k], options: options.lbfgs)
                countBase[k] = solver.evaluations
            }
        }
    }
    return (found.compactMap { $0 }.sorted { $0.value < $1.value }, counts.reduce(0, +))
}

/// Refit for a bootstrap resample: L-BFGS on φ from each of `starts`, the best kept.
func refitVarPro(_ objective: Approach3Objective, starts: [[Double]], options: VarProOptions) throws -> ParametricLaw {
    let solver = ProfileSolver(objective, maxIterations: options.innerIterations)
    var best: (law: ParametricLaw, value: Double)? = nil
    for start in starts {
        solver.linear = nil
        if let r = refineProfile(solver, from: start, options: options.lbfgs), r.value < (best?.value ?? .infinity) {
            best = (r.law, r.value)
        }
    }
    guard let best else { throw FitError.noConvergence(approach: 3) }
    return best.law
}

/// Indices of the grid's finite local minima (no lower neighbour among the 8 around it), lowest first.
func gridMinima(_ values: [Double], rows: Int, columns: Int) -> [Int] {
    var minima: [Int] = []
    for i in 0..<rows {
        for j in 0..<columns where values[i * columns + j].isFinite {
            let v = values[i * columns + j]
            var lowest = true
            for di in -1...1 {
                for dj in -1...1 where (di, dj) != (0, 0) {
                    let a = i + di, b = j + dj
                    if a >= 0, a < rows, b >= 0, b < columns, values[a * columns + b] < v { lowest = false }
                }
            }
            if lowest { minima.append(i * columns + j) }
        }
    }
    return minima.sorted { values[$0] < values[$1] }
}
