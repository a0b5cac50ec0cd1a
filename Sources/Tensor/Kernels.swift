// The elementwise and fused kernels of gpt-mini, each a forward and a hand-written backward.
// Argument order: outputs first, then inputs, then sizes. Every backward ACCUMULATES (+=)
// into its gradients, so a tensor used twice (the tied token embedding) just works. Where a
// backward takes `accumulate: false` it writes (=) its input gradient instead: the tape uses
// that for the first writer of an activation gradient, which saves clearing it each step.
import CKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: Residual

/// out = a + b over n elements.
public func residualForward(_ out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>,
                            _ b: UnsafePointer<Float>, count n: Int) {
    var i = 0
    while i + 8 <= n { store8(load8(a + i) + load8(b + i), out + i); i += 8 }
    while i < n { out[i] = a[i] + b[i]; i += 1 }
}

/// da += dout, db += dout (or = when the flags say so).
public func residualBackward(_ da: UnsafeMutablePointer<Float>, _ db: UnsafeMutablePointer<Float>,
                             _ dout: UnsafePointer<Float>, count n: Int,
                             accumulateA: Bool = true, accumulateB: Bool = true) {
    if accumulateA { accumulate(da, dout, count: n) } else { da.update(from: dout, count: n) }
    if accumulateB { accumulate(db, dout, count: n) } else { db.update(from: dout, count: n) }
}

/// y += x over n elements.
public func accumulate(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count n: Int) {
    var i = 0
    while i + 8 <= n { store8(load8(y + i) + load8(x + i), y + i); i += 8 }
    while i < n { y[i] += x[i]; i += 1 }
}

// MARK: Embedding

/// out[b,t,:] = wte[tokens[b,t],:] + wpe[t,:]; tokens is (B,T), wte (V,C), wpe (≥T,C), out (B,T,C).
public func embeddingForward(_ out: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>,
                             wte: UnsafePointer<Float>, wpe: UnsafePointer<Float>, B: Int, T: Int, C: Int) {
    for b in 0..<B {
        for t in 0..<T {
            let row = b * T + t
            residualForward(out + row * C, wte + Int(tokens[row]) * C, wpe + t * C, count: C)
        }
    }
}

/// Scatter-add: dwte[tokens[b,t],:] += dout[b,t,:] and dwpe[t,:] += dout[b,t,:].
public func embeddingBackward(dwte: UnsafeMutablePointer<Float>, dwpe: UnsafeMutablePointer<Float>,
                              _ dout: UnsafePointer<Float>, tokens: UnsafePointer<Int32>, B: Int, T: Int, C: Int) {
    for b in 0..<B {
        for t in 0..<T {
            let row = b * T + t
            accumulate(dwte + Int(tokens[row]) * C, dout + row * C, count: C)
            accumulate(dwpe + t * C, dout + row * C, count: C)
        }
    }
}

// MARK: LayerNorm

/// Sum of n floats from p, eight lanes at a time.
@inline(__always)
func sum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = Float8(), i = 0
    while i + 8 <= n { acc += load8(p + i); i += 8 }
    var s = acc.sum()
    while i < n { s += p[i]; i += 1 }
    return s
}

/// y = (x − mean) / √(var + 1e-5) · gain + bias over the last axis; x and y are (rows, cols).
/// Saves mean and rstd = 1/√(var + 1e-5) per row for the backward.
public func layerNormForward(_ y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
                             rstd: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                             gain: UnsafePointer<Float>, bias: UnsafePointer<Float>, rows: Int, cols: Int) {
    if Kernels.avx2 { return ck_layernorm_forward_avx2(y, mean, rstd, x, gain, bias, rows, cols) }
    let invC = 1 / Float(cols)
    for r in 0..<rows {
        let xr = x + r * cols, yr = y + r * cols
        let m = sum(xr, cols) * invC
        let m8 = Float8(repeating: m)
        var acc = Float8(), i = 0
        while i + 8 <= cols { let d = load8(xr + i) - m8; acc += d * d; i += 8 }
        var v = acc.sum()
        while i < cols { let d = xr[i] - m; v += d * d; i += 1 }
        let s = 1 / (v * invC + 1e-5).squareRoot()
        let s8 = Float8(repeating: s)
        i = 0
        while i + 8 <= cols {
            store8((load8(xr + i) - m8) * s8 * load8(gain + i) + load8(bias + i), yr + i); i += 8
        }
        while i < cols { yr[i] = (xr[i] - m) * s * gain[i] + bias[i]; i += 1 }
        mean[r] = m
        rstd[r] = s
    }
}

/// With n̂ = (x − mean)·rstd and g = dy·gain: dbias += Σ dy, dgain += Σ dy·n̂,
/// dx += rstd · (g − mean(g) − n̂ · mean(g·n̂)).
public func layerNormBackward(dx: UnsafeMutablePointer<Float>, dgain: UnsafeMutablePointer<Float>,
                              dbias: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                              _ x: UnsafePointer<Float>, gain: UnsafePointer<Float>,
                              mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, rows: Int, cols: Int,
                              accumulate: Bool = true) {
    if Kernels.avx2 {
        return ck_layernorm_backward_avx2(dx, dgain, dbias, dy, x, gain, mean, rstd, rows, cols, accumulate ? 1 : 0)
    }
    let invC = 1 / Float(cols)
    for r in 0..<rows {
        let xr = x + r * cols, dyr = dy + r * cols, dxr = dx + r * cols
        let m = mean[r], s = rstd[r]
        let m8 = Float8(repeating: m), s8 = Float8(repeating: s)
        var a1 = Float8(), a2 = Float8(), i = 0
        while i + 8 <= cols {
            let n = (load8(xr + i) - m8) * s8
            let g = load8(dyr + i) * load8(gain + i)
            a1 += g; a2 += g * n; i += 8
        }
        var gMean = a1.sum(), gnMean = a2.sum()
        while i < cols {
            let n = (xr[i] - m) * s, g = dyr[i] * gain[i]
            gMean += g; gnMean += g * n; i += 1
        }
        gMean *= invC; gnMean *= invC
        let gm8 = Float8(repeating: gMean), gn8 = Float8(repeating: gnMean)
        i = 0
        while i + 8 <= cols {
            let n = (load8(xr + i) - m8) * s8
            let d = load8(dyr + i)
            store8(load8(dbias + i) + d, dbias + i)
            store8(load8(dgain + i) + d * n, dgain + i)
            let g = (d * load8(gain + i) - gm8 - n * gn8) * s8
            store8(accumulate ? load8(dxr + i) + g : g, dxr + i)
            i += 8
        }
        while i < cols {
            let n = (xr[i] - m) * s, d = dyr[i]
            dbias[i] += d
            dgain[i] += d * n
            let g = (d * gain[i] - gMean - n * gnMean) * s
            dxr[i] = accumulate ? dxr[i] + g : g
            i += 1
        }
    }
}

// MARK: GELU

// GELU, tanh form (Hendrycks and Gimpel 2016): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
private let geluK: Float = 0.797_884_56
private let geluA: Float = 0.044_715

/// y = gelu(x) over n elements; slope = gelu′(x) is saved for the backward, so the tanh is
/// computed once per step: gelu′ = ½(1 + t) + ½·x·(1 − t²)·√(2/π)·(1 + 3·0.044715·x²).
public func geluForward(_ y: UnsafeMutablePointer<Float>, slope: UnsafeMutablePointer<Float>,
                        _ x: UnsafePointer<Float>, count n: Int) {
    if Kernels.avx2 { return ck_gelu_forward_avx2(y, slope, x, n) }
    var i = 0
    while i + 8 <= n {
        let v = load8(x + i)
        let v2: Float8 = v * v
        let inner: Float8 = geluK * (v + geluA * v2 * v)
        let t = tanh8(inner)
        let half: Float8 = 0.5 * (1 + t)
        let d: Float8 = geluK * (1 + (3 * geluA) * v2)
        store8(half * v, y + i)
        store8(half + (0.5 * v) * (1 - t * t) * d, slope + i)
        i += 8
    }
    while i < n {
        let v = x[i]
        let t = tanhf32(geluK * (v + geluA * v * v * v))
        y[i] = 0.5 * v * (1 + t)
        slope[i] = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * geluK * (1 + 3 * geluA * v * v)
        i += 1
    }
}

/// dx += dy · slope, with the slope saved by `geluForward`.
public func geluBackward(dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                         slope: UnsafePointer<Float>, count n: Int, accumulate: Bool = true) {
    var i = 0
    if accumulate {
        while i + 8 <= n { store8(load8(dx + i) + load8(dy + i) * load8(slope + i), dx + i); i += 8 }
        while i < n { dx[i] += dy[i] * slope[i]; i += 1 }
    } else {
        while i + 8 <= n { store8(load8(dy + i) * load8(slope + i), dx + i); i += 8 }
        while i < n { dx[i] = dy[i] * slope[i]; i += 1 }
    }
}

// MARK: Softmax

/// In place over p[0..<n]: p = softmax(p); returns nothing. n ≥ 1.
@inline(__always)
func softmaxInPlace(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
    var mx8 = Float8(repeating: -.greatestFiniteMagnitude), i = 0
    while i + 8 <= n { mx8 = max8(mx8, load8(p + i)); i += 8 }
    var mx = horizontalMax(mx8)
    while i < n { mx = max(mx, p[i]); i += 1 }
    let m8 = Float8(repeating: mx)
    var acc = Float8(); i = 0
    while i + 8 <= n { let e = exp8(load8(p + i) - m8); store8(e, p + i); acc += e; i += 8 }
    var s = acc.sum()
    while i < n { let e = expf32(p[i] - mx); p[i] = e; s += e; i += 1 }
    let inv8 = Float8(repeating: 1 / s)
    i = 0
    while i + 8 <= n { store8(load8(p + i) * inv8, p + i); i += 8 }
    let inv = 1 / s
    while i < n { p[i] *= inv; i += 1 }
}

// MARK: Fused softmax + cross-entropy

/// Mean over rows of −log softmax(logits[r])[targets[r]]; logits is (rows, V). When `dlogits`
/// is given it receives (softmax − onehot) / rows, i.e. the gradient of the mean loss; it may
/// be the logits buffer itself (the logits are then overwritten, which is all the backward
/// needs). Unlike the other backwards this one WRITES: the loss is the tape's end.
/// The sum is accumulated in Float64. `meanOver` divides by another count than `rows`, so
/// a batch can be processed in row chunks whose results add up to the batch mean.
public func crossEntropyForward(dlogits: UnsafeMutablePointer<Float>?, _ logits: UnsafePointer<Float>,
                                targets: UnsafePointer<Int32>, rows: Int, V: Int, meanOver: Int? = nil) -> Float {
    let denominator = meanOver ?? rows
    let invRows = 1 / Float(denominator)
    if Kernels.avx2 {
        return Float(ck_cross_entropy_avx2(dlogits, logits, targets, rows, V, invRows) / Double(denominator))
    }
    var total = 0.0
    for r in 0..<rows {
        let xr = logits + r * V
        var mx8 = Float8(repeating: -.greatestFiniteMagnitude), i = 0
        while i + 8 <= V { mx8 = max8(mx8, load8(xr + i)); i += 8 }
        var mx = horizontalMax(mx8)
        while i < V { mx = max(mx, xr[i]); i += 1 }
        let m8 = Float8(repeating: mx)
        let target = Int(targets[r])
        let targetLogit = xr[target]
        var acc = Float8(); i = 0
        if let dlogits {
            let dr = dlogits + r * V
            while i + 8 <= V { let e = exp8(load8(xr + i) - m8); store8(e, dr + i); acc += e; i += 8 }
            var s = acc.sum()
            while i < V { let e = expf32(xr[i] - mx); dr[i] = e; s += e; i += 1 }
            total += Double(logf(s) - (targetLogit - mx))
            let k = invRows / s, k8 = Float8(repeating: k)
            i = 0
            while i + 8 <= V { store8(load8(dr + i) * k8, dr + i); i += 8 }
            while i < V { dr[i] *= k; i += 1 }
            dr[target] -= invRows
        } else {
            while i + 8 <= V { acc += exp8(load8(xr + i) - m8); i += 8 }
            var s = acc.sum()
            while i < V { s += expf32(xr[i] - mx); i += 1 }
            total += Double(logf(s) - (targetLogit - mx))
        }
    }
    return Float(total / Double(denominator))
}


// MARK: AdamW

/// One AdamW update of n parameters in PyTorch's form (Loshchilov & Hutter 2019): with
/// g = grad·gradScale, m ← β1·m + (1 − β1)·g, v ← β2·v + (1 − β2)·g²,
/// p ← p·shrink − stepSize·m / (√v · inverseRootBC2 + eps), where the caller folds the bias
/// corrections into stepSize = lr / (1 − β1ᵗ) and inverseRootBC2 = 1 / √(1 − β2ᵗ), and the
/// decoupled weight decay into shrink = 1 − lr·wd.
public func adamwUpdate(_ p: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
                        _ g: UnsafePointer<Float>, count n: Int, gradScale: Float, beta1: Float, beta2: Float,
                        stepSize: Float, inverseRootBC2: Float, eps: Float, shrink: Float) {
    let (c1, c2) = (1 - beta1, 1 - beta2)
    if Kernels.avx2 {
        return ck_adamw_avx2(p, g, m, v, n, gradScale, beta1, beta2, c1, c2, stepSize, inverseRootBC2, eps, shrink)
    }
    for i in 0..<n {
        let gi = g[i] * gradScale
        let mi = beta1 * m[i] + c1 * gi
        let vi = beta2 * v[i] + c2 * gi * gi
        m[i] = mi
        v[i] = vi
        p[i] = p[i] * shrink - stepSize * mi / (vi.squareRoot() * inverseRootBC2 + eps)
    }
}

/// The CPU's model name from /proc/cpuinfo, or "unknown CPU": what a measured rate holds for.
public func cpuModelName() -> String {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
          let colon = line.firstIndex(of: ":") else { return "unknown CPU" }
    return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
}
