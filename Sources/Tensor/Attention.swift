// Causal multi-head self-attention over a fused QKV activation, batched over (sequence, head)
// with one sgemm per product; heads are read and written in place through row strides.
import CKernels

/// qkv is (B, T, 3C) holding [q | k | v], each split into `heads` heads of C/heads columns.
/// For every sequence b and head h: S = QKᵀ/√hs, P = softmax(S) over keys 0…t (causal),
/// out[b,:,h] = P·V. out is (B, T, C); probs (B, heads, T, T) keeps P for the backward, zero
/// above the diagonal.
public func attentionForward(_ out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
                             _ qkv: UnsafePointer<Float>, B: Int, T: Int, C: Int, heads: Int) {
    let hs = C / heads
    let scale = 1 / Float(hs).squareRoot()
    for b in 0..<B {
        for h in 0..<heads {
            let q = qkv + b * T * 3 * C + h * hs, k = q + C, v = q + 2 * C
            let p = probs + (b * heads + h) * T * T
            causalScores(p, q, k, T: T, hs: hs, ld: 3 * C, scale: scale)
            causalSoftmax(p, T: T)
            gemm(out + b * T * C + h * hs, ldc: C, p, lda: T, v, ldb: 3 * C, m: T, n: hs, k: T)
        }
    }
}

/// S = scale·QKᵀ on and below the diagonal, computed in row blocks so that the masked upper
/// triangle is mostly skipped (entries above the diagonal inside a block are garbage; the
/// caller's softmax ignores and then zeroes them).
@inline(__always)
func causalScores(_ s: UnsafeMutablePointer<Float>, _ q: UnsafePointer<Float>, _ k: UnsafePointer<Float>,
                  T: Int, hs: Int, ld: Int, scale: Float, ldA: Int? = nil) {
    let lda = ldA ?? ld
    let block = T >= 64 ? 32 : T
    var r0 = 0
    while r0 < T {
        let rows = min(block, T - r0)
        gemm(s + r0 * T, ldc: T, q + r0 * lda, lda: lda, k, ldb: ld, transposeB: true,
             m: rows, n: r0 + rows, k: hs, alpha: scale)
        r0 += rows
    }
}

/// Row t of the T×T block p: softmax over columns 0…t in place, zeros after.
@inline(__always)
func causalSoftmax(_ p: UnsafeMutablePointer<Float>, T: Int) {
    if Kernels.avx2 { return ck_causal_softmax_avx2(p, T) }
    for t in 0..<T {
        let row = p + t * T
        softmaxInPlace(row, t + 1)
        if t + 1 < T { (row + t + 1).update(repeating: 0, count: T - t - 1) }
    }
}

/// Softmax backward on the causal rows of a T×T block: ds = p ⊙ (ds − rowsum(p ⊙ ds)) over
/// columns 0…t of row t (ds holds dP on entry), zeros after.
@inline(__always)
func causalSoftmaxBackward(_ ds: UnsafeMutablePointer<Float>, _ p: UnsafePointer<Float>, T: Int) {
    if Kernels.avx2 { return ck_causal_softmax_backward_avx2(ds, p, T) }
    for t in 0..<T {
        let pr = p + t * T, dr = ds + t * T
        let n = t + 1
        var acc = Float8(), i = 0
        while i + 8 <= n { acc += load8(pr + i) * load8(dr + i); i += 8 }
        var dot = acc.sum()
        while i < n { dot += pr[i] * dr[i]; i += 1 }
        let dot8 = Float8(repeating: dot)
        i = 0
        while i + 8 <= n { store8(load8(pr + i) * (load8(dr + i) - dot8), dr + i); i += 8 }
        while i < n { dr[i] = pr[i] * (dr[i] - dot); i += 1 }
        if n < T { (dr + n).update(repeating: 0, count: T - n) }
    }
}

/// Backward of `attentionForward`, accumulating into dqkv (B, T, 3C), or writing it when
/// `accumulate` is false. `scratch` holds T×T floats. Per (b, h): dP = dO·Vᵀ, dV += Pᵀ·dO, dS = P ⊙ (dP − rowsum(P ⊙ dP)),
/// dQ += dS·K/√hs, dK += dSᵀ·Q/√hs.
public func attentionBackward(dqkv: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                              _ dout: UnsafePointer<Float>, _ qkv: UnsafePointer<Float>,
                              probs: UnsafePointer<Float>, B: Int, T: Int, C: Int, heads: Int,
                              accumulate: Bool = true) {
    let hs = C / heads
    let scale = 1 / Float(hs).squareRoot()
    let beta: Float = accumulate ? 1 : 0
    for b in 0..<B {
        for h in 0..<heads {
            let off = b * T * 3 * C + h * hs
            let q = qkv + off, k = q + C, v = q + 2 * C
            let dq = dqkv + off, dk = dq + C, dv = dq + 2 * C
            let p = probs + (b * heads + h) * T * T
            let dO = dout + b * T * C + h * hs
            // dP = dO·Vᵀ, only the causal part is read below.
            causalScores(scratch, dO, v, T: T, hs: hs, ld: 3 * C, scale: 1, ldA: C)
            gemm(dv, ldc: 3 * C, p, lda: T, transposeA: true, dO, ldb: C, m: T, n: hs, k: T, beta: beta)
            causalSoftmaxBackward(scratch, p, T: T)
            // Full products over the zeros above the diagonal: skipping them (row blocks, as
            // for the scores) saves 2–3% of a step at head size 16 but changes OpenBLAS's summation order.
            gemm(dq, ldc: 3 * C, scratch, lda: T, k, ldb: 3 * C, m: T, n: hs, k: T, alpha: scale, beta: beta)
            gemm(dk, ldc: 3 * C, scratch, lda: T, transposeA: true, q, ldb: 3 * C,
                 m: T, n: hs, k: T, alpha: scale, beta: beta)
        }
    }
}
