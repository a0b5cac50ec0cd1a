// Axis scales, the data-to-pixel mapping and tick placement for the SVG charts.
import Foundation

public enum AxisScale: Sendable {
    case linear
    case log10
}

/// Maps data values on one axis to pixel positions (and back). On a log axis values are placed by
/// their log10; `pixelLow` may be greater than `pixelHigh` (SVG y grows downward).
public struct AxisMapping: Sendable {
    public var low: Double
    public var high: Double
    public var pixelLow: Double
    public var pixelHigh: Double
    public var scale: AxisScale

    public init(low: Double, high: Double, pixelLow: Double, pixelHigh: Double, scale: AxisScale) {
        self.low = low
        self.high = high
        self.pixelLow = pixelLow
        self.pixelHigh = pixelHigh
        self.scale = scale
    }

    private func t(_ v: Double) -> Double { scale == .log10 ? Foundation.log10(v) : v }
    private func tInverse(_ u: Double) -> Double { scale == .log10 ? pow(10, u) : u }

    /// Pixel position of a data value (NaN for a non-positive value on a log axis).
    public func pixel(_ value: Double) -> Double {
        if scale == .log10 && value <= 0 { return .nan }
        let f = (t(value) - t(low)) / (t(high) - t(low))
        return pixelLow + f * (pixelHigh - pixelLow)
    }

    /// Data value at a pixel position; the inverse of `pixel`.
    public func value(atPixel p: Double) -> Double {
        let f = (p - pixelLow) / (pixelHigh - pixelLow)
        return tInverse(t(low) + f * (t(high) - t(low)))
    }

    /// Whether a value lies in the axis range (with a rounding tolerance of 1e-9 of the span).
    public func contains(_ value: Double) -> Bool {
        let (a, b) = (min(t(low), t(high)), max(t(low), t(high)))
        let u = t(value)
        let slack = 1e-9 * (b - a)
        return u >= a - slack && u <= b + slack
    }
}

/// A tick mark: major ticks carry a label and a grid line, minor ticks only a short mark.
public struct Tick: Equatable, Sendable {
    public var value: Double
    public var label: String
    public var isMajor: Bool

    public init(value: Double, label: String, isMajor: Bool) {
        self.value = value
        self.label = label
        self.isMajor = isMajor
    }
}

/// Ticks for a range. Linear axes get 1-2-5 steps (about `target` labelled ticks). Log axes
/// choose by the number of decades spanned: more than six decades label every k-th power of ten;
/// two or more label each power of ten with minor ticks at 2…9; under two label 1 and 3 in each
/// decade (1e11, 3e11, 1e12) with minor ticks at the rest; under half a decade label 1…9. Where
/// a choice leaves fewer than three labels the next denser one is taken (1-3, 1-2-5, 1…9), and
/// below that linear steps inside the range.
public func ticks(low: Double, high: Double, scale: AxisScale, target: Int = 5) -> [Tick] {
    let (lo, hi) = (min(low, high), max(low, high))
    guard lo.isFinite, hi.isFinite, hi > lo else { return [] }
    switch scale {
    case .linear:
        return linearTicks(lo, hi, target: target)
    case .log10:
        guard lo > 0 else { return linearTicks(lo, hi, target: target) }
        return logTicks(lo, hi, target: target)
    }
}

func niceStep(_ span: Double, target: Int) -> Double {
    let raw = span / Double(max(target, 1))
    let mag = pow(10, floor(log10(raw)))
    let f = raw / mag
    let nice: Double = f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10
    return nice * mag
}

func linearTicks(_ lo: Double, _ hi: Double, target: Int) -> [Tick] {
    let step = niceStep(hi - lo, target: target)
    let first = (lo / step - 1e-9).rounded(.up)
    let last = (hi / step + 1e-9).rounded(.down)
    guard first <= last else { return [] }
    return stride(from: first, through: last, by: 1).map { k in
        let v = abs(k) < 1e-9 ? 0 : k * step
        return Tick(value: v, label: tickLabel(v, step: step), isMajor: true)
    }
}

func logTicks(_ lo: Double, _ hi: Double, target: Int) -> [Tick] {
    let eLo = Int(floor(log10(lo) + 1e-9))
    let eHi = Int(ceil(log10(hi) - 1e-9))
    let decades = log10(hi) - log10(lo)
    let inside = { (v: Double) in v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9) }
    if decades > 6 {
        var out: [Tick] = []
        let every = Int((decades / Double(max(target, 1))).rounded(.up))
        for e in eLo...eHi where inside(pow(10, Double(e))) {
            out.append(Tick(value: pow(10, Double(e)), label: logLabel(1, e), isMajor: e % every == 0))
        }
        return out.map { $0.isMajor ? $0 : Tick(value: $0.value, label: "", isMajor: false) }
    }
    // Label sets from sparse to dense; start from the one the span suggests and move to denser
    // ones until at least three ticks carry labels.
    let levels: [Set<Int>] = [[1], [1, 3], [1, 2, 5], Set(1...9)]
    let start = decades >= 2 ? 0 : decades >= 0.5 ? 1 : 3
    for labelled in levels[start...] {
        var out: [Tick] = []
        for e in eLo...eHi {
            for m in 1...9 {
                let v = Double(m) * pow(10, Double(e))
                guard inside(v) else { continue }
                let major = labelled.contains(m)
                out.append(Tick(value: v, label: major ? logLabel(m, e) : "", isMajor: major))
            }
        }
        if out.filter(\.isMajor).count >= 3 { return out }
    }
    // Well under a decade: readable values come from linear steps.
    return linearTicks(lo, hi, target: target)
}

/// "3e11" for large or small magnitudes, plain digits ("300", "0.3") in between.
func logLabel(_ mantissa: Int, _ exponent: Int) -> String {
    if exponent >= -3 && exponent <= 3 {
        let v = Double(mantissa) * pow(10, Double(exponent))
        return tickLabel(v, step: pow(10, Double(exponent)))
    }
    return "\(mantissa)e\(exponent)"
}

/// A label with as many decimals as the tick step needs; scientific outside 1e-3…1e5.
func tickLabel(_ v: Double, step: Double) -> String {
    if v == 0 { return "0" }
    let a = abs(v)
    if a >= 1e5 || a < 1e-3 {
        let e = Int(floor(log10(a) + 1e-9))
        let m = v / pow(10, Double(e))
        let digits = max(0, Int(ceil(-log10(step / pow(10, Double(e))) - 1e-9)))
        var s = String(format: "%.\(min(digits, 3))f", m)
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return "\(s)e\(e)"
    }
    let decimals = max(0, Int(ceil(-log10(step) - 1e-9)))
    return String(format: "%.\(min(decimals, 6))f", v)
}
