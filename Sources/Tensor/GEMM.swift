// Row-major single-precision matrix products through cblas_sgemm; transposes are passed to
// BLAS as flags, never materialised.
import CBLAS

/// C = alpha · op(A) · op(B) + beta · C, all row-major. op(A) is m×k, op(B) is k×n, C is m×n.
/// `lda`, `ldb`, `ldc` are the row strides of the stored matrices, so a block inside a wider
/// buffer (one head's columns of a fused QKV activation) can be used in place.
@inline(__always)
public func gemm(_ c: UnsafeMutablePointer<Float>, ldc: Int,
                 _ a: UnsafePointer<Float>, lda: Int, transposeA: Bool = false,
                 _ b: UnsafePointer<Float>, ldb: Int, transposeB: Bool = false,
                 m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0) {
    // For beta = 0 OpenBLAS first clears C with a scalar loop (up to a tenth of a small model's
    // step); clearing it with memset and asking for C += alpha·A·B gives the same bits sooner.
    var beta = beta
    if beta == 0 {
        if ldc == n {
            c.update(repeating: 0, count: m * n)
        } else {
            for r in 0..<m { (c + r * ldc).update(repeating: 0, count: n) }
        }
        beta = 1
    }
    cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// y = x · Wᵀ (+ beta · y) for x (rows, inFeatures) and W (outFeatures, inFeatures), the
/// PyTorch layout of a linear layer without bias.
@inline(__always)
public func linearForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                          rows: Int, inFeatures: Int, outFeatures: Int, beta: Float = 0) {
    gemm(y, ldc: outFeatures, x, lda: inFeatures, w, ldb: inFeatures, transposeB: true,
         m: rows, n: outFeatures, k: inFeatures, beta: beta)
}

/// Backward of `linearForward`: dx += dy · W and dW += dyᵀ · x. Either gradient may be nil
/// when nobody needs it; `accumulateX: false` writes dx instead of adding to it.
@inline(__always)
public func linearBackward(dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?,
                           _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                           rows: Int, inFeatures: Int, outFeatures: Int, accumulateX: Bool = true) {
    if let dx {
        gemm(dx, ldc: inFeatures, dy, lda: outFeatures, w, ldb: inFeatures,
             m: rows, n: inFeatures, k: outFeatures, beta: accumulateX ? 1 : 0)
    }
    if let dw {
        gemm(dw, ldc: inFeatures, dy, lda: outFeatures, transposeA: true, x, ldb: inFeatures,
             m: outFeatures, n: inFeatures, k: rows, beta: 1)
    }
}
