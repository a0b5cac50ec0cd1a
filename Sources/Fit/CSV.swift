// Reading runs from a CSV of `N, D, C, loss` (columns found by header name), so published
// isoFLOP data or anyone's own runs can be fitted without a sweep database.
import Foundation

/// Reads runs from the CSV file at `path`; see `parseRunsCSV` for the format.
public func readRunsCSV(path: String) throws -> [FitRun] {
    let text: String
    do {
        text = try String(contentsOfFile: path, encoding: .utf8)
    } catch {
        // Foundation's text ("The operation could not be completed") hides the system's reason.
        let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
        let reason = underlying.map { String(cString: strerror(Int32($0.code))) } ?? error.localizedDescription
        throw FitError.unreadableFile(path: path, reason: reason)
    }
    return try parseRunsCSV(text, source: path)
}

/// Parses runs from CSV text. Required columns (any order, case-insensitive, an exact match
/// first): `N` (all parameters), `D` (tokens), `loss`. Optional: `C` (FLOPs used), `N_nonemb`,
/// `budget`, `schedule`, `id`, `steps`, and
/// `status`: where present, only rows whose status is `done` are runs (a runs table lists
/// unfinished runs too, with no loss).
/// Blank lines and lines starting with `#` are skipped. Without a `budget` column, runs are
/// grouped into budgets by C: sorted by C, a new budget starts where C exceeds the first C of the
/// current one by more than 10%, and the budget is the geometric mean of its runs' C. Without
/// either, the runs have no budgets (0) and only approach 3 applies.
public func parseRunsCSV(_ text: String, source: String) throws -> [FitRun] {
    // Rows are parsed as they are read, so memory grows by one FitRun per row, not by the
    // fields of every line at once.
    var header: [String]? = nil
    var columns: Columns? = nil
    var runs: [FitRun] = []
    var number = 0
    for raw in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
        number += 1
        let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        if line.isEmpty || line.hasPrefix("#") { continue }
        let fields = line.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: CharacterSet.whitespaces.union(CharacterSet(charactersIn: "\"")))
        }
        guard let names = header, let columns else {
            header = fields
            columns = try Columns(header: fields, source: source)
            continue
        }
        if let run = try columns.run(fields, names: names, line: number, source: source) { runs.append(run) }
    }
    guard let columns else { throw FitError.missingColumn("N", file: source) }
    guard !runs.isEmpty else { throw FitError.noRows(file: source) }
    if columns.budget == nil && columns.c != nil { assignBudgetsByFLOPs(&runs) }
    return runs
}

/// Where each column of a runs CSV is, found by header name.
private struct Columns {
    var n: Int, d: Int, loss: Int, c: Int?, nonemb: Int?, budget: Int?, schedule: Int?, id: Int?, status: Int?, steps: Int?

    init(header: [String], source: String) throws {
        let lowered = header.map { $0.lowercased() }
        // A column spelled exactly as asked wins over one equal up to case (a runs table has both
        // `d`, the width, and `D`, the tokens).
        func column(_ name: String) -> Int? { header.firstIndex(of: name) ?? lowered.firstIndex(of: name.lowercased()) }
        func required(_ name: String) throws -> Int {
            guard let i = column(name) else { throw FitError.missingColumn(name, file: source) }
            return i
        }
        n = try required("N"); d = try required("D"); loss = try required("loss"); c = column("C")
        nonemb = column("N_nonemb"); budget = column("budget")
        schedule = column("schedule"); id = column("id"); status = column("status"); steps = column("steps")
    }

    /// The run on one data line; nil for a row whose status is not `done`.
    func run(_ fields: [String], names: [String], line: Int, source: String) throws -> FitRun? {
        guard fields.count == names.count else {
            throw FitError.wrongFieldCount(file: source, line: line, expected: names.count, found: fields.count)
        }
        func number(_ col: Int) throws -> Double {
            guard let v = Double(fields[col]), v.isFinite else {
                throw FitError.malformedNumber(file: source, line: line, column: names[col], text: fields[col])
            }
            return v
        }
        if let col = status, fields[col] != "done" { return nil }
        let place = "\(source) line \(line)"
        let lossValue = try number(loss)
        guard lossValue > 0 else { throw FitError.nonPositiveLoss(source: place, value: lossValue) }
        let nValue = try number(n), dValue = try number(d), cValue = try c.map { try number($0) } ?? 0
        for (name, v) in [("N", nValue), ("D", dValue), ("C", c == nil ? 1 : cValue)] where !(v > 0) {
            throw FitError.nonPositiveValue(source: place, column: name, value: v)
        }
        for (name, v, limit) in [("N", nValue, maximumCount), ("D", dValue, maximumCount), ("C", cValue, maximumFLOPs)] where v > limit {
            throw FitError.outOfRange(source: place, column: name, value: v, limit: limit)
        }
        var nonEmbedding: Double? = nil
        if let col = nonemb, !fields[col].isEmpty {
            let v = try number(col)
            guard v > 0 else { throw FitError.nonPositiveValue(source: place, column: "N_nonemb", value: v) }
            nonEmbedding = v
        }
        let budgetValue = try budget.map { try number($0) } ?? 0
        let scheduleName = schedule.map { fields[$0] }.flatMap { $0.isEmpty ? nil : $0 }
        let runID = id.map { fields[$0] } ?? "\(source):\(line)"
        var stepCount: Int? = nil
        if let col = steps, !fields[col].isEmpty {
            guard let v = Int(fields[col]), v >= 0 else {
                throw FitError.malformedNumber(file: source, line: line, column: names[col], text: fields[col])
            }
            stepCount = v
        }
        return FitRun(id: runID, budget: budgetValue, parameters: nValue, nonEmbeddingParameters: nonEmbedding,
                      tokens: dValue, flops: cValue, finalLoss: lossValue, schedule: scheduleName, steps: stepCount)
    }
}

/// Clusters runs by C (10% tolerance from a cluster's smallest C) and sets each run's budget to
/// the geometric mean of its cluster's C.
func assignBudgetsByFLOPs(_ runs: inout [FitRun]) {
    let order = runs.indices.sorted { runs[$0].flops < runs[$1].flops }
    var start = 0
    while start < order.count {
        var end = start + 1
        while end < order.count && runs[order[end]].flops <= 1.1 * runs[order[start]].flops { end += 1 }
        var logSum = 0.0
        for k in start..<end { logSum += log(runs[order[k]].flops) }
        let budget = exp(logSum / Double(end - start))
        for k in start..<end { runs[order[k]].budget = budget }
        start = end
    }
}
