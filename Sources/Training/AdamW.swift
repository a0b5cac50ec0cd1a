// AdamW over one flat parameter buffer, with global gradient-norm clipping.

import Foundation
import Model
import Tensor

/// AdamW (Loshchilov & Hutter 2019) in the form PyTorch uses: decoupled weight decay scaled
/// by the learning rate, `p ← p·(1 − lr·wd)`, then `p ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)`.
/// Decay applies only to tensors the model marks `decays` (matrices, not LayerNorm gains or
/// biases). The moments live in two buffers allocated once; `step` does not allocate.
public final class AdamW {
    public let count: Int
    public var beta1: Float
    public var beta2: Float
    public var eps: Float
    public var weightDecay: Float
    /// First and second moments, in the model's flat layout.
    public let m: UnsafeMutablePointer<Float>
    public let v: UnsafeMutablePointer<Float>
    /// Updates taken so far (t in the bias corrections).
    public var t: Int = 0

    /// Contiguous ranges of the flat buffer with their decay flag, merged where neighbours agree.
    private let segments: [(start: Int, end: Int, decays: Bool)]

    /// The moment decays and decoupled weight decay every config starts from (nanoGPT's and
    /// Chinchilla's choice): the one place they are written.
    public static let defaultBeta1 = 0.9, defaultBeta2 = 0.95, defaultWeightDecay = 0.1

    public init(table: [ParameterInfo], count: Int, beta1: Float = Float(AdamW.defaultBeta1), beta2: Float = Float(AdamW.defaultBeta2),
                eps: Float = 1e-8, weightDecay: Float = Float(AdamW.defaultWeightDecay)) {
        self.count = count
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
        m = .allocate(capacity: count)
        v = .allocate(capacity: count)
        m.initialize(repeating: 0, count: count)
        v.initialize(repeating: 0, count: count)
        var segs: [(start: Int, end: Int, decays: Bool)] = []
        for p in table.sorted(by: { $0.offset < $1.offset }) {
            if let last = segs.last, last.end == p.offset, last.decays == p.decays {
                segs[segs.count - 1].end = p.offset + p.count
            } else {
                segs.append((p.offset, p.offset + p.count, p.decays))
            }
        }
        segments = segs
    }

    deinit {
        m.deallocate()
        v.deallocate()
    }

    /// One update of `parameters` from `gradients` (scaled by `gradScale`, the clipping
    /// factor) at learning rate `lr`.
    public func step(parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>,
                     lr: Double, gradScale: Float = 1) {
        t += 1
        let bc1 = 1 - pow(Double(beta1), Double(t))
        let bc2 = 1 - pow(Double(beta2), Double(t))
        let stepSize = Float(lr / bc1)
        let inverseRootBC2 = Float(1 / bc2.squareRoot())
        for seg in segments {
            let shrink: Float = seg.decays ? Float(1 - lr * Double(weightDecay)) : 1
            adamwUpdate(parameters + seg.start, m: m + seg.start, v: v + seg.start, gradients + seg.start,
                        count: seg.end - seg.start, gradScale: gradScale, beta1: beta1, beta2: beta2,
                        stepSize: stepSize, inverseRootBC2: inverseRootBC2, eps: eps, shrink: shrink)
        }
    }

    /// √(Σ g²) over the whole buffer, accumulated in Float64.
    public static func globalNorm(_ g: UnsafePointer<Float>, count: Int) -> Double {
        // Four running sums break the dependency chain; the order is fixed, so the result is
        // the same on every run.
        var (s0, s1, s2, s3) = (0.0, 0.0, 0.0, 0.0)
        var i = 0
        while i + 4 <= count {
            let (a, b, c, d) = (Double(g[i]), Double(g[i + 1]), Double(g[i + 2]), Double(g[i + 3]))
            s0 += a * a; s1 += b * b; s2 += c * c; s3 += d * d
            i += 4
        }
        while i < count { let x = Double(g[i]); s0 += x * x; i += 1 }
        return ((s0 + s1) + (s2 + s3)).squareRoot()
    }

    /// The factor that brings a gradient of norm `norm` down to `maxNorm` (1 when already
    /// inside; `maxNorm ≤ 0` turns clipping off).
    public static func clipScale(norm: Double, maxNorm: Double) -> Float {
        guard maxNorm > 0, norm > maxNorm else { return 1 }
        return Float(maxNorm / norm)
    }
}
