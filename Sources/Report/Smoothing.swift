// Smoothing of noisy loss curves: the debiased exponential moving average TensorBoard draws, and a
// centred moving window. Both work on the sequence of points, not on the spacing of their x values.
import Foundation

/// A smoothing parameter that cannot be used, with the value that was given.
public enum SmoothingError: Error, Equatable, CustomStringConvertible {
    case weightOutOfRange(Double)
    case evenOrNonPositiveWidth(Int)

    public var description: String {
        switch self {
        case .weightOutOfRange(let w):
            return "EMA weight \(w) is outside [0, 1): 0 keeps the raw values, values near 1 smooth hardest"
        case .evenOrNonPositiveWidth(let k):
            return "moving-window width \(k) must be a positive odd number so the window is centred"
        }
    }
}

/// Debiased exponential moving average with weight `w` (TensorBoard's smoothing slider):
///
///     ema_0 = 0,  ema_t = w·ema_{t-1} + (1 - w)·x_t,  out_t = ema_t / (1 - w^t)
///
/// Dividing by 1 - w^t removes the pull toward the zero start, so out_1 = x_1 and early points are
/// averages of what has been seen rather than of zeros. The index t counts points, not x distance:
/// a curve logged at uneven steps is smoothed by position, as TensorBoard does. NaN entries (an
/// evaluation that was not run at that step) stay NaN and leave the running state untouched, so
/// t counts only the finite values.
public func debiasedEMA(_ values: [Double], weight w: Double) throws -> [Double] {
    guard w >= 0, w < 1 else { throw SmoothingError.weightOutOfRange(w) }
    var out = [Double](repeating: .nan, count: values.count)
    var ema = 0.0
    var wPowT = 1.0
    for i in values.indices where values[i].isFinite {
        ema = w * ema + (1 - w) * values[i]
        wPowT *= w
        out[i] = ema / (1 - wPowT)
    }
    return out
}

/// Centred moving average over `width` points (odd). Near the ends the window shrinks
/// symmetrically, to the largest centred window that fits: the first and last points are their own
/// average, the second and second-to-last average three points, and so on. Keeping the window
/// centred means a straight-line trend is never bent at the ends. NaN entries stay NaN and are
/// left out of their neighbours' averages.
public func centredMovingAverage(_ values: [Double], width: Int) throws -> [Double] {
    guard width > 0, width % 2 == 1 else { throw SmoothingError.evenOrNonPositiveWidth(width) }
    let n = values.count
    let half = width / 2
    var out = [Double](repeating: .nan, count: n)
    for i in 0..<n where values[i].isFinite {
        let h = min(half, i, n - 1 - i)
        var sum = 0.0
        var count = 0
        for j in (i - h)...(i + h) where values[j].isFinite {
            sum += values[j]
            count += 1
        }
        out[i] = sum / Double(count)
    }
    return out
}
