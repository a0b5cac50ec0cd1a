// Bootstrap over runs: resample the runs of each budget with replacement (so every resample keeps
// the isoFLOP design), refit, and read percentile intervals off the refits. Seeded and reproducible
// whatever the number of threads: resample i draws from its own generator.
import Foundation
import Tensor

/// The fit's own draws, kept as they were so that its resamples and synthetic sweeps do not change.
extension SplitMix64 {
    /// Uniform in 0..<n from the top 32 bits (multiply-shift; the bias is below 2^-32 for the n
    /// used here).
    mutating func below(_ n: Int) -> Int {
        Int(((next() >> 32) * UInt64(n)) >> 32)
    }

    /// Standard normal by Box–Muller.
    public mutating func normal() -> Double {
        let u1 = (Double(next() >> 11) + 0.5) / 9_007_199_254_740_992.0
        let u2 = Double(next() >> 11) / 9_007_199_254_740_992.0
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}

/// Per-run multiplicities of bootstrap resample `index`: within each budget group, as many draws
/// with replacement as the group has runs.
public func bootstrapWeights(groups: [BudgetGroup], runCount: Int, seed: UInt64, index: Int) -> [Double] {
    var rng = SplitMix64(seed: seed ^ (UInt64(index + 1) &* 0xD1B5_4A32_D192_ED03))
    _ = rng.next()
    var w = [Double](repeating: 0, count: runCount)
    for g in groups {
        for _ in g.members { w[g.members[rng.below(g.members.count)]] += 1 }
    }
    return w
}

/// A two-sided interval.
public struct Interval: Codable, Equatable, Sendable {
    public var lower: Double
    public var upper: Double

    public init(lower: Double, upper: Double) {
        self.lower = lower
        self.upper = upper
    }

    public func contains(_ v: Double) -> Bool { lower <= v && v <= upper }
}

/// A fitted value with its bootstrap percentile intervals (nil without a bootstrap).
public struct Estimate: Codable, Equatable, Sendable {
    public var value: Double
    public var interval80: Interval?
    public var interval95: Interval?

    public init(value: Double, interval80: Interval? = nil, interval95: Interval? = nil) {
        self.value = value
        self.interval80 = interval80
        self.interval95 = interval95
    }

    /// The estimate with percentile intervals from the finite values among `samples`.
    init(value: Double, samples: [Double]) {
        let s = samples.filter(\.isFinite).sorted()
        self.value = value
        guard s.count >= 2 else { return }
        interval80 = Interval(lower: quantile(s, 0.10), upper: quantile(s, 0.90))
        interval95 = Interval(lower: quantile(s, 0.025), upper: quantile(s, 0.975))
    }
}

/// Quantile q of sorted values, interpolating linearly between order statistics.
public func quantile(_ sorted: [Double], _ q: Double) -> Double {
    let h = q * Double(sorted.count - 1)
    let i = Int(h.rounded(.down)), j = min(i + 1, sorted.count - 1)
    return sorted[i] + (h - Double(i)) * (sorted[j] - sorted[i])
}

/// How a bootstrap resample is drawn.
public enum BootstrapMethod: String, Codable, Sendable, CaseIterable {
    /// Runs drawn with replacement within each budget: the design itself changes from resample to
    /// resample. With five to nine runs per isoFLOP profile, more than half the resamples of a
    /// five-run budget keep three or fewer distinct sizes, and the parabola through them swings
    /// far, so the intervals of approach 2 come out wide.
    case runs
    /// Fixed design (Davison & Hinkley 1997, §6.2.3): every run keeps its N and D; its loss is the
    /// fitted loss plus a residual drawn with replacement from the fit's residuals, each inflated
    /// for the degrees of freedom the fit used and centred. Approach 1 has no residuals and
    /// always resamples runs.
    case residuals
}

/// Runs `refit` on `resamples` resamples across `threads` threads; entry k of the result holds
/// value k of every refit, in resample order (NaN where a refit threw). `refit` receives the
/// resample's index and draws the resample itself (from a generator seeded by that index).
/// `progress`, when given, is called after each resample with (done, resamples).
func runBootstrap(resamples: Int, width: Int, threads: Int, progress: (@Sendable (Int, Int) -> Void)? = nil,
                  refit: @escaping (Int) throws -> [Double]) -> [[Double]] {
    var flat = [Double](repeating: .nan, count: resamples * width)
    let counter = DoneCounter()
    flat.withUnsafeMutableBufferPointer { out in
        let base = out.baseAddress!
        forEachInParallel(resamples, threads: threads) { r in
            if let values = try? refit(r), values.count == width {
                for k in 0..<width { base[r * width + k] = values[k] }
            }
            if let progress { progress(counter.increment(), resamples) }
        }
    }
    return (0..<width).map { k in (0..<resamples).map { flat[$0 * width + k] } }
}

/// A count shared by the bootstrap's threads.
private final class DoneCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var done = 0

    func increment() -> Int {
        lock.lock()
        defer { lock.unlock() }
        done += 1
        return done
    }
}

/// Residuals of a fit, made ready to resample: each `residuals[i]` divided by √(1 − h_i) (its
/// leverage h_i; pass 0 where unknown), times `inflation`, then all centred on their mean.
public func residualPool(_ residuals: [Double], leverages: [Double], inflation: Double = 1) -> [Double] {
    let scaled = residuals.indices.map { i -> Double in
        let h = min(leverages[i], 0.999)
        return residuals[i] * inflation / (1 - h).squareRoot()
    }
    let mean = scaled.reduce(0, +) / Double(max(scaled.count, 1))
    return scaled.map { $0 - mean }
}

/// Resample `index` of a residual bootstrap: `fitted[i] + pool[random]` for every run.
public func residualResample(fitted: [Double], pool: [Double], seed: UInt64, index: Int) -> [Double] {
    var rng = SplitMix64(seed: seed ^ (UInt64(index + 1) &* 0x9E6C_63D0_676A_9A99))
    _ = rng.next()
    return fitted.map { $0 + pool[rng.below(pool.count)] }
}
