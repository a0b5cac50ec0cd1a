// The project's seeded random numbers: SplitMix64 and xoshiro256**, whose whole state is four
// integers, so a run can save and restore it (in a checkpoint) and continue bit-exactly.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SplitMix64 (Steele, Lea & Flood 2014): expands one seed into xoshiro's four words, and is
/// small enough to serve alone where a stream needs no saving (the fit's bootstrap).
public struct SplitMix64: Hashable, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256** (Blackman and Vigna 2018), seeded through SplitMix64. The integer and uniform
/// streams are the same on every platform (normal draws go through libm's log and cos).
/// Encoded as its four state words in hex, so that no JSON decoder rounds them through a Double.
public struct RNG: RandomNumberGenerator, Codable, Hashable, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init(seed: UInt64) {
        var sm = SplitMix64(seed: seed)
        s0 = sm.next(); s1 = sm.next(); s2 = sm.next(); s3 = sm.next()
    }

    /// The four state words; assigning them back continues the stream where it was.
    public var state: [UInt64] {
        get { [s0, s1, s2, s3] }
        set {
            precondition(newValue.count == 4, "RNG state has 4 words, got \(newValue.count)")
            (s0, s1, s2, s3) = (newValue[0], newValue[1], newValue[2], newValue[3])
        }
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// Uniform in [0, 1) with 24 random bits.
    @inline(__always)
    public mutating func nextFloat() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Uniform in [0, 1) with 53 random bits.
    @inline(__always)
    public mutating func nextDouble() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform integer in 0..<bound (bound > 0) by Lemire's multiply-high, one draw per call;
    /// without his rejection step the bias is below bound / 2^64, far under anything measured here.
    @inline(__always)
    public mutating func nextInt(below bound: Int) -> Int {
        Int(truncatingIfNeeded: next().multipliedFullWidth(by: UInt64(bound)).high)
    }

    /// Standard normal by the Box–Muller transform (one draw per call; the second is dropped
    /// so the stream position depends only on the number of calls).
    public mutating func nextNormal() -> Float {
        let u1 = 1 - nextDouble()            // (0, 1]
        let u2 = nextDouble()
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }

    /// Fills `count` floats at `p` with normal(0, std) draws.
    public mutating func fillNormal(_ p: UnsafeMutablePointer<Float>, count: Int, std: Float) {
        for i in 0..<count { p[i] = nextNormal() * std }
    }

    public init(from decoder: Decoder) throws {
        let words = try decoder.singleValueContainer().decode([String].self)
        let values = words.compactMap { UInt64($0, radix: 16) }
        guard values.count == 4 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "xoshiro state needs four hex words, got \(words)"))
        }
        (s0, s1, s2, s3) = (values[0], values[1], values[2], values[3])
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(state.map { String($0, radix: 16) })
    }
}
