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
