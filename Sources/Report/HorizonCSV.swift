// The CSV `isoflop horizon` writes (cycle, step, lr, eval_loss), read back as one curve per
// cycle length for the report's figure 4.
import Foundation
import Sweep

/// What reading a horizon CSV refuses, with the file and the line.
public enum HorizonCSVError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case badRow(path: String, line: Int, text: String)
    case badValue(path: String, line: Int, text: String)
    case empty(path: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "\(path): cannot read the horizon curves (\(reason))"
        case let .badRow(path, line, text): return "\(path):\(line): expected cycle,step,lr,eval_loss, found '\(text)'"
        case let .badValue(path, line, text):
            return "\(path):\(line): cycle, step and eval_loss must be finite numbers (cycle and step positive), found '\(text)'"
        case let .empty(path): return "\(path): no horizon curves"
        }
    }
}

/// The curves of `isoflop horizon`'s CSV (cycle, step, lr, eval_loss), one per cycle length,
/// in order of cycle length.
public func readHorizonCSV(_ path: String) throws -> [HorizonCurve] {
    let text: String
    do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
        throw HorizonCSVError.unreadable(path: path, reason: describeFileError(error))
    }
    var curves: [Double: HorizonCurve] = [:]
    for (k, line) in text.split(separator: "\n").enumerated().dropFirst() {
        let f = line.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard f.count == 4, let cycle = f[0], let step = f[1], let loss = f[3] else {
            throw HorizonCSVError.badRow(path: path, line: k + 1, text: String(line.prefix(80)))
        }
        // A NaN cycle would be a dictionary key that never finds itself again.
        guard cycle.isFinite, cycle > 0, step.isFinite, step >= 0, loss.isFinite else {
            throw HorizonCSVError.badValue(path: path, line: k + 1, text: String(line.prefix(80)))
        }
        curves[cycle, default: HorizonCurve(cycle: cycle, steps: [], loss: [])].steps.append(step)
        curves[cycle]!.loss.append(loss)
    }
    guard !curves.isEmpty else { throw HorizonCSVError.empty(path: path) }
    return curves.keys.sorted().map { curves[$0]! }
}
