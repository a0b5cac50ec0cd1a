// Eight-lane helpers for the elementwise kernels: unaligned loads and stores, and exp / tanh
// accurate to a few ulp, so softmax and GELU do not call libm once per element.

import CKernels

public typealias Float8 = SIMD8<Float>

/// The two implementations of the elementwise kernels: the portable Swift loops (eight lanes
/// as two SSE halves on any x86-64), and their AVX2 twins in CKernels, which compute the same
/// operations in the same order, so a run gives the same bits whichever set it uses.
public enum KernelSet: String, CaseIterable, Sendable {
    case portable, avx2
}

public enum Kernels {
    /// The fastest set this CPU runs.
    public static let best: KernelSet = ck_has_avx2() != 0 ? .avx2 : .portable

    /// The set in use, `best` unless a benchmark or test chose another with `use`.
    public private(set) nonisolated(unsafe) static var active: KernelSet = best

    /// Switches every following kernel call to `set`; false (and nothing changes) when this
    /// CPU cannot run it.
    @discardableResult
    public static func use(_ set: KernelSet) -> Bool {
        guard set == .portable || best == .avx2 else { return false }
        active = set
        return true
    }

    @inline(__always)
    static var avx2: Bool { active == .avx2 }
}

@inline(__always)
func load8(_ p: UnsafePointer<Float>) -> Float8 { UnsafeRawPointer(p).loadUnaligned(as: Float8.self) }

@inline(__always)
func load8(_ p: UnsafeMutablePointer<Float>) -> Float8 { UnsafeRawPointer(p).loadUnaligned(as: Float8.self) }

@inline(__always)
func store8(_ v: Float8, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Float8.self)
}

/// Lane-wise maximum, written as a lane loop because the compiler turns it into one `maxps`
/// (the generic `pointwiseMax` is not specialised and costs a call per use).
@inline(__always)
public func max8(_ a: Float8, _ b: Float8) -> Float8 {
    var r = a
    for i in 0..<8 { r[i] = a[i] < b[i] ? b[i] : a[i] }
    return r
}

/// Lane-wise minimum, as `max8`.
@inline(__always)
public func min8(_ a: Float8, _ b: Float8) -> Float8 {
    var r = a
    for i in 0..<8 { r[i] = b[i] < a[i] ? b[i] : a[i] }
    return r
}

/// Largest lane.
@inline(__always)
public func horizontalMax(_ a: Float8) -> Float8.Scalar {
    var m = a[0]
    for i in 1..<8 { m = a[i] > m ? a[i] : m }
    return m
}

/// eˣ lane-wise: x = n·ln2 + r with |r| ≤ ln2/2 (ln2 split in two for exactness), a degree-6
/// polynomial for eʳ (Cephes expf coefficients), and 2ⁿ built in the exponent bits. Inputs
/// are clamped to [-87.3, 88.3], so the result is finite and normal; relative error ≈ 2e-7.
/// Rounding uses the 1.5·2²³ shifter: adding it leaves round(x·log₂e) in the low mantissa
/// bits, which also gives the integer n without a float-to-int conversion.
@inline(__always)
public func exp8(_ x: Float8) -> Float8 {
    let x = min8(max8(x, Float8(repeating: -87.3)), Float8(repeating: 88.3))
    let shifter = Float8(repeating: 12_582_912)
    let shifted = x * 1.442_695_04 + shifter
    let n = shifted - shifter
    let r = x - n * 0.693_359_375 + n * 2.121_944_4e-4
    var p: Float8 = Float8(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 0.166_666_65
    p = p * r + 0.5
    let y = p * (r * r) + r + 1
    let bits = (unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
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
