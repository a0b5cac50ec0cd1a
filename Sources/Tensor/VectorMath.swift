// Eight-lane helpers for the elementwise kernels: unaligned loads and stores, and exp / tanh
// accurate to a few ulp, so softmax and GELU do not call libm once per element.

public typealias Float8 = SIMD8<Float>

@inline(__always)
func load8(_ p: UnsafePointer<Float>) -> Float8 { UnsafeRawPointer(p).loadUnaligned(as: Float8.self) }

@inline(__always)
func load8(_ p: UnsafeMutablePointer<Float>) -> Float8 { UnsafeRawPointer(p).loadUnaligned(as: Float8.self) }

@inline(__always)
func store8(_ v: Float8, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Float8.self)
}

/// eˣ lane-wise: x = n·ln2 + r with |r| ≤ ln2/2 (ln2 split in two for exactness), a degree-6
/// polynomial for eʳ (Cephes expf coefficients), and 2ⁿ built in the exponent bits. Inputs
/// are clamped to [-87.3, 88.3], so the result is finite and normal; relative error ≈ 2e-7.
@inline(__always)
public func exp8(_ x: Float8) -> Float8 {
    let x = x.clamped(lowerBound: Float8(repeating: -87.3), upperBound: Float8(repeating: 88.3))
    let n = (x * 1.442_695_04).rounded(.toNearestOrEven)
    let r = x - n * 0.693_359_375 + n * 2.121_944_4e-4
    var p: Float8 = Float8(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 0.166_666_65
    p = p * r + 0.5
    let y = p * (r * r) + r + 1
    let bits = (SIMD8<Int32>(n, rounding: .towardZero) &+ 127) &<< 23
    return y * unsafeBitCast(bits, to: Float8.self)
}

/// tanh lane-wise as 1 − 2 / (e²ˣ + 1); absolute error ≈ 2e-7, saturating cleanly to ±1.
@inline(__always)
public func tanh8(_ x: Float8) -> Float8 {
    1 - 2 / (exp8(x + x) + 1)
}

/// Scalar eˣ with the same polynomial (used for row tails), so both paths agree.
@inline(__always)
public func expf32(_ x: Float) -> Float { exp8(Float8(repeating: x))[0] }

/// Scalar tanh with the same formula as `tanh8`.
@inline(__always)
public func tanhf32(_ x: Float) -> Float { tanh8(Float8(repeating: x))[0] }
