// Learning-rate schedules: linear warmup, then one of the four decays of DESIGN.md.

import Foundation

/// How the learning rate decays after warmup.
public enum ScheduleKind: String, Codable, CaseIterable, Sendable {
    /// Cosine from peak to `finalFraction × peak` over exactly this run's steps (Chinchilla).
    case matched
    /// The same cosine over `cycleSteps`, one cycle length shared by a whole sweep, cut off
    /// where the run ends (Kaplan-style). Past the cycle the rate stays at its floor.
    case fixed
    /// Peak after warmup, to the end.
    case constant
    /// Warmup, stable at peak, then a cooldown (`CooldownShape`) over the last
    /// `cooldownFraction` of the run to `finalFraction × peak` (set `finalFraction` to 0 to
    /// cool down to zero).
    case wsd
}

/// How wsd's cooldown falls from the peak to the floor as its progress x goes from 0 to 1.
public enum CooldownShape: String, Codable, CaseIterable, Sendable {
    /// 1 − x.
    case linear
    /// 1 − √x: stays high longer and drops at the end; Hägele et al. 2024 ("Scaling Laws and
    /// Compute-Optimal Training Beyond Fixed Training Durations") find it beats the linear one.
    case sqrt
}

/// A learning-rate schedule over one run of `totalSteps` optimizer steps.
///
/// Steps are counted from 0: `lr(at: s)` is the rate used by the update that takes the
/// parameters from `s` to `s + 1` completed steps. Warmup is linear and reaches the peak at
/// step `warmupSteps - 1`; the decays are written so that the last step of the run
/// (`totalSteps - 1`) lands exactly on the floor `finalFraction × peak` (matched, wsd).
public struct LRSchedule: Codable, Hashable, Sendable {
    public var kind: ScheduleKind
    /// Peak learning rate, reached at the end of warmup.
    public var peak: Double
    public var warmupSteps: Int
    public var totalSteps: Int
    /// Cycle length of the `fixed` schedule, warmup included; ignored by the other kinds.
    public var cycleSteps: Int?
    /// Floor of the decays as a fraction of the peak.
    public var finalFraction: Double
    /// Fraction of the run spent in the cooldown of `wsd`.
    public var cooldownFraction: Double
    /// The form of wsd's cooldown.
    public var cooldownShape: CooldownShape

    public init(kind: ScheduleKind, peak: Double, totalSteps: Int, warmupSteps: Int? = nil,
                cycleSteps: Int? = nil, finalFraction: Double = 0.1, cooldownFraction: Double = 0.2,
                cooldownShape: CooldownShape = .linear) {
        self.kind = kind
        self.peak = peak
        self.totalSteps = totalSteps
        self.warmupSteps = warmupSteps ?? LRSchedule.defaultWarmup(steps: totalSteps)
        self.cycleSteps = cycleSteps
        self.finalFraction = finalFraction
        self.cooldownFraction = cooldownFraction
        self.cooldownShape = cooldownShape
    }

    /// max(10, 5% of the run), never more than the run itself.
    public static func defaultWarmup(steps: Int) -> Int {
        warmup(steps: steps, fraction: 0.05, minimum: 10)
    }

    /// max(`minimum`, `fraction` of the run rounded), never more than the run itself.
    public static func warmup(steps: Int, fraction: Double, minimum: Int) -> Int {
        min(max(steps, 0), max(minimum, Int((fraction * Double(steps)).rounded())))
    }

    /// The wsd cooldown a fraction asks for, in steps: `fraction × steps` rounded.
    /// `cooldownSteps` clips it to the steps left after warmup.
    public static func cooldownSteps(fraction: Double, steps: Int) -> Int {
        Int((fraction * Double(steps)).rounded())
    }

    /// Checks the numbers make a schedule; the message names the field.
    public func validate() throws {
        func fail(_ s: String) -> TrainingError { .invalidConfig("schedule: " + s) }
        guard peak.isFinite, peak > 0 else { throw fail("peak lr \(peak) must be positive") }
        guard totalSteps >= 1 else { throw fail("totalSteps \(totalSteps) must be at least 1") }
        // A fixed run may end inside the warmup of the cycle it is cut from (checked against the cycle below).
        guard warmupSteps >= 0, warmupSteps <= totalSteps || kind == .fixed else {
            throw fail("warmupSteps \(warmupSteps) must be in 0...\(totalSteps)")
        }
        guard finalFraction >= 0, finalFraction <= 1 else { throw fail("finalFraction \(finalFraction) must be in 0...1") }
        guard cooldownFraction >= 0, cooldownFraction <= 1 else {
            throw fail("cooldownFraction \(cooldownFraction) must be in 0...1")
        }
        if kind == .fixed {
            guard let c = cycleSteps else { throw fail("the fixed schedule needs cycleSteps") }
            guard c > warmupSteps else { throw fail("cycleSteps \(c) must exceed warmupSteps \(warmupSteps)") }
        }
    }

    /// Number of steps in the wsd cooldown.
    public var cooldownSteps: Int {
        min(totalSteps - warmupSteps, LRSchedule.cooldownSteps(fraction: cooldownFraction, steps: totalSteps))
    }

    /// The step at which wsd's cooldown begins (updates before it run at the peak, once warm).
    public var cooldownStart: Int { totalSteps - cooldownSteps }

    /// The learning rate for update `step` (0-based).
    public func lr(at step: Int) -> Double {
        if step < warmupSteps { return peak * Double(step + 1) / Double(warmupSteps) }
        let floor = finalFraction * peak
        switch kind {
        case .constant:
            return peak
        case .matched, .fixed:
            let end = kind == .matched ? totalSteps : (cycleSteps ?? totalSteps)
            let span = Double(max(1, end - warmupSteps))
            let p = min(1, Double(step + 1 - warmupSteps) / span)
            return floor + (peak - floor) * 0.5 * (1 + cos(Double.pi * p))
        case .wsd:
            let n = cooldownSteps
            let start = totalSteps - n
            if step < start || n == 0 { return peak }
            let p = min(1, Double(step + 1 - start) / Double(n))
            return peak + (floor - peak) * (cooldownShape == .sqrt ? p.squareRoot() : p)
        }
    }
}
