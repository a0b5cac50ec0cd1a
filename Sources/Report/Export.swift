// Loss-curve export: the metric rows of each run written as CSV or JSON, with raw and smoothed
// columns and a chosen x axis, one file per sweep or one file per run.
import Foundation
import Sweep
import Tensor

/// The metric rows of one run with what identifies it in a sweep.
public struct RunCurve: Equatable, Sendable {
    public var runID: Int
    public var sweep: String
    public var schedule: String
    /// The FLOP budget C the run was sized for.
    public var budget: Double
    /// Parameters N (all, with embeddings).
    public var parameters: Double
    /// The run's logged steps, as the store holds them.
    public var rows: [MetricRow]

    public init(runID: Int, sweep: String, schedule: String, budget: Double, parameters: Double, rows: [MetricRow]) {
        self.runID = runID
        self.sweep = sweep
        self.schedule = schedule
        self.budget = budget
        self.parameters = parameters
        self.rows = rows
    }
}

/// Which quantity the exported curves are indexed by.
public enum CurveAxis: String, CaseIterable, Sendable {
    case steps, tokens, flops

    /// The column name used in the files.
    public var column: String {
        switch self {
        case .steps: return "step"
        case .tokens: return "tokens"
        case .flops: return "flops"
        }
    }

    public func value(of row: MetricRow) -> Double {
        switch self {
        case .steps: return Double(row.step)
        case .tokens: return Double(row.tokens)
        case .flops: return row.flops
        }
    }
}

public enum ExportFormat: String, CaseIterable, Sendable {
    case csv, json
}

/// One file for the whole sweep, or one file per run.
public enum ExportGrouping: String, CaseIterable, Sendable {
    case sweep, run
}

public struct ExportOptions: Sendable {
    public var format: ExportFormat
    public var axis: CurveAxis
    public var grouping: ExportGrouping
    /// Weight of the debiased EMA (`*_ema` columns), in [0, 1).
    public var emaWeight: Double
    /// Width of the centred moving window (`*_window` columns), odd.
    public var windowWidth: Int

    public init(format: ExportFormat = .csv, axis: CurveAxis = .steps, grouping: ExportGrouping = .sweep,
                emaWeight: Double = 0.6, windowWidth: Int = 9) {
        self.format = format
        self.axis = axis
        self.grouping = grouping
        self.emaWeight = emaWeight
        self.windowWidth = windowWidth
    }
}

public enum ExportError: Error, CustomStringConvertible {
    case cannotCreateDirectory(path: String, reason: String)
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case .cannotCreateDirectory(let path, let reason):
            return "cannot create export directory \(path): \(reason)"
        case .cannotWrite(let path, let reason):
            return "cannot write \(path): \(reason)"
        }
    }
}

/// A run's curve with its smoothed columns, the shape both formats are written from.
struct SmoothedCurve {
    var run: RunCurve
    var x: [Double]
    var train: [Double]
    var trainEMA: [Double]
    var trainWindow: [Double]
    var eval: [Double]
    var evalEMA: [Double]
    var evalWindow: [Double]

    init(_ run: RunCurve, options: ExportOptions) throws {
        self.run = run
        x = run.rows.map { options.axis.value(of: $0) }
        train = run.rows.map(\.trainLoss)
        eval = run.rows.map { $0.evalLoss ?? .nan }
        trainEMA = try debiasedEMA(train, weight: options.emaWeight)
        trainWindow = try centredMovingAverage(train, width: options.windowWidth)
        evalEMA = try debiasedEMA(eval, weight: options.emaWeight)
        evalWindow = try centredMovingAverage(eval, width: options.windowWidth)
    }
}

/// The column order of CSV files (JSON uses the same names as keys).
public func curveColumns(axis: CurveAxis) -> [String] {
    ["run", "schedule", "budget", axis.column]
        + ["step", "tokens", "flops"].filter { $0 != axis.column }
        + ["lr", "train_loss", "train_loss_ema", "train_loss_window", "eval_loss", "eval_loss_ema", "eval_loss_window"]
}

/// CSV text of the given runs, one row per metric row, header first. Missing values (no
/// evaluation at that step) are empty fields.
public func curvesCSV(_ runs: [RunCurve], options: ExportOptions) throws -> String {
    var text = curveColumns(axis: options.axis).joined(separator: ",") + "\n"
    for run in runs {
        let s = try SmoothedCurve(run, options: options)
        for (i, row) in run.rows.enumerated() {
            var fields = [String(run.runID), csvField(run.schedule), number(run.budget), number(s.x[i])]
            for axis in CurveAxis.allCases where axis != options.axis {
                fields.append(number(axis.value(of: row)))
            }
            fields += [number(row.lr), number(s.train[i]), number(s.trainEMA[i]), number(s.trainWindow[i]),
                       number(s.eval[i]), number(s.evalEMA[i]), number(s.evalWindow[i])]
            text += fields.joined(separator: ",") + "\n"
        }
    }
    return text
}

/// JSON text of the given runs: an object with the axis, the smoothing settings and a list of runs,
/// each holding its columns as arrays (missing values are null).
public func curvesJSON(_ runs: [RunCurve], options: ExportOptions) throws -> String {
    var parts: [String] = []
    for run in runs {
        let s = try SmoothedCurve(run, options: options)
        var columns: [(String, [Double])] = [(options.axis.column, s.x)]
        for axis in CurveAxis.allCases where axis != options.axis {
            columns.append((axis.column, run.rows.map { axis.value(of: $0) }))
        }
        columns += [("lr", run.rows.map(\.lr)), ("train_loss", s.train), ("train_loss_ema", s.trainEMA),
                    ("train_loss_window", s.trainWindow), ("eval_loss", s.eval), ("eval_loss_ema", s.evalEMA),
                    ("eval_loss_window", s.evalWindow)]
        let body = columns.map { name, values in
            "\"\(name)\": [" + values.map { $0.isFinite ? number($0) : "null" }.joined(separator: ", ") + "]"
        }
        parts.append("    {\"run\": \(run.runID), \"sweep\": \(jsonQuoted(run.sweep)), "
                     + "\"schedule\": \(jsonQuoted(run.schedule)), \"budget\": \(number(run.budget)), "
                     + "\"parameters\": \(number(run.parameters)),\n     "
                     + body.joined(separator: ",\n     ") + "}")
    }
    return "{\"axis\": \"\(options.axis.column)\", \"ema_weight\": \(number(options.emaWeight)), "
        + "\"window\": \(options.windowWidth),\n  \"runs\": [\n" + parts.joined(separator: ",\n") + "\n  ]\n}\n"
}

/// The file name a sweep's (or a run's) curves are written to:
/// `<sweep>-curves.<ext>` for one file per sweep, `<sweep>-run<id>.<ext>` for one file per run,
/// where characters other than letters, digits, `.`, `-` and `_` in the sweep name become `_`.
public func exportFileName(sweep: String, runID: Int?, format: ExportFormat) -> String {
    let safe = String(sweep.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "_" })
    let stem = safe.isEmpty ? "sweep" : safe
    if let runID { return "\(stem)-run\(runID).\(format.rawValue)" }
    return "\(stem)-curves.\(format.rawValue)"
}

/// Writes the curves into `dir` (created if missing) and returns the paths written, in order.
/// With `.sweep` grouping runs are grouped by their sweep name, one file per sweep.
@discardableResult
public func exportCurves(_ runs: [RunCurve], options: ExportOptions, to dir: String) throws -> [String] {
    do {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    } catch {
        throw ExportError.cannotCreateDirectory(path: dir, reason: error.localizedDescription)
    }
    var files: [(name: String, runs: [RunCurve])] = []
    switch options.grouping {
    case .run:
        files = runs.map { (exportFileName(sweep: $0.sweep, runID: $0.runID, format: options.format), [$0]) }
    case .sweep:
        var order: [String] = []
        var bySweep: [String: [RunCurve]] = [:]
        for run in runs {
            if bySweep[run.sweep] == nil { order.append(run.sweep) }
            bySweep[run.sweep, default: []].append(run)
        }
        files = order.map { (exportFileName(sweep: $0, runID: nil, format: options.format), bySweep[$0]!) }
    }
    // Sweeps whose names differ only in characters replaced by "_" (a/b and a_b) would share
    // one file: the later ones get -2, -3, … before the extension.
    var used = Set<String>()
    for i in files.indices {
        let base = (files[i].name as NSString).deletingPathExtension, ext = (files[i].name as NSString).pathExtension
        var name = files[i].name, k = 2
        while !used.insert(name).inserted {
            name = "\(base)-\(k).\(ext)"
            k += 1
        }
        files[i].name = name
    }
    var written: [String] = []
    for file in files {
        let text = options.format == .csv ? try curvesCSV(file.runs, options: options)
                                          : try curvesJSON(file.runs, options: options)
        let path = (dir as NSString).appendingPathComponent(file.name)
        try writeText(text, to: path)
        written.append(path)
    }
    return written
}

func writeText(_ text: String, to path: String) throws {
    do {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    } catch {
        throw ExportError.cannotWrite(path: path, reason: error.localizedDescription)
    }
}

/// Shortest text that reads back to the same Double; empty for NaN (a missing value in CSV).
func number(_ v: Double) -> String {
    guard v.isFinite else { return "" }
    if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
    return "\(v)"
}

func csvField(_ s: String) -> String {
    guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
    return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
