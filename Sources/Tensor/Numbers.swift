// How a FLOP count is written for people, the same in run keys, plans, progress, fits and reports.
import Foundation

/// 1e12 → "1e12", 3e11 → "3e11", 2.5e10 → "2.5e10": the mantissa to at most three significant
/// digits, no "+" and no leading zeros in the exponent.
public func formatFLOPs(_ c: Double) -> String {
    guard c.isFinite, c != 0 else { return c == 0 ? "0" : "\(c)" }
    // "%.2e" rounds the mantissa once (9.996e12 → "1.00e+13"); then drop its trailing zeros.
    let parts = String(format: "%.2e", c).split(separator: "e")
    var mantissa = String(parts[0])
    while mantissa.hasSuffix("0") { mantissa.removeLast() }
    if mantissa.hasSuffix(".") { mantissa.removeLast() }
    return mantissa + "e" + (Int(parts[1]).map(String.init) ?? String(parts[1]))
}

/// A duration for people: "42s", "3m07s", "1h05m"; "?" when unknown, "> 100 years" beyond a
/// century (an estimate that says nothing, and would not fit an Int).
public func formatDuration(_ s: Double) -> String {
    guard s.isFinite, s >= 0 else { return "?" }
    guard s < 3.2e9 else { return "> 100 years" }
    let t = Int(s.rounded())
    if t >= 3600 { return String(format: "%dh%02dm", t / 3600, (t % 3600) / 60) }
    if t >= 60 { return String(format: "%dm%02ds", t / 60, t % 60) }
    return "\(t)s"
}

/// A whole count for a table column or a line: 9999 as it is, 12k, 12.3M.
public func formatWholeCount(_ n: Int) -> String {
    if n >= 10_000_000 { return String(format: "%.1fM", Double(n) / 1e6) }
    if n >= 10_000 { return String(format: "%.0fk", Double(n) / 1e3) }
    return "\(n)"
}

/// Pads to |width| characters for a table column: on the left for positive widths
/// (right-aligned), else on the right; a longer string is left as it is.
public func pad(_ s: String, _ width: Int) -> String {
    let fill = String(repeating: " ", count: max(0, abs(width) - s.count))
    return width < 0 ? s + fill : fill + s
}
