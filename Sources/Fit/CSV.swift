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
/// `budget`, `schedule`, `id`, and
/// `status`: where present, only rows whose status is `done` are runs (a runs table lists
/// unfinished runs too, with no loss).
/// Blank lines and lines starting with `#` are skipped. Without a `budget` column, runs are
/// grouped into budgets by C: sorted by C, a new budget starts where C exceeds the first C of the
/// current one by more than 10%, and the budget is the geometric mean of its runs' C. Without
/// either, the runs have no budgets (0) and only approach 3 applies.
public func parseRunsCSV(_ text: String, source: String) throws -> [FitRun] {
    var lines: [(number: Int, fields: [String])] = []
    var number = 0
    for raw in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
        number += 1
        let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        if line.isEmpty || line.hasPrefix("#") { continue }
        let fields = line.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: CharacterSet.whitespaces.union(CharacterSet(charactersIn: "\"")))
        }
        lines.append((number, fields))
    }
    guard let header = lines.first else { throw FitError.missingColumn("N", file: source) }
    let names = header.fields.map { $0.lowercased() }
    // A column spelled exactly as asked wins over one equal up to case (a runs table has both
    // `d`, the width, and `D`, the tokens).
    func column(_ name: String) -> Int? { header.fields.firstIndex(of: name) ?? names.firstIndex(of: name.lowercased()) }
    func required(_ name: String) throws -> Int {
        guard let i = column(name) else { throw FitError.missingColumn(name, file: source) }
        return i
    }
    let nCol = try required("N"), dCol = try required("D"), lossCol = try required("loss"), cCol = column("C")
    let nonembCol = column("N_nonemb"), budgetCol = column("budget")
    let scheduleCol = column("schedule"), idCol = column("id"), statusCol = column("status")
    guard lines.count > 1 else { throw FitError.noRows(file: source) }

    var runs: [FitRun] = []
    for (lineNumber, fields) in lines.dropFirst() {
        guard fields.count == names.count else {
            throw FitError.wrongFieldCount(file: source, line: lineNumber, expected: names.count, found: fields.count)
        }
        func number(_ col: Int) throws -> Double {
            guard let v = Double(fields[col]), v.isFinite else {
                throw FitError.malformedNumber(file: source, line: lineNumber, column: header.fields[col], text: fields[col])
            }
            return v
        }
        if let col = statusCol, fields[col] != "done" { continue }
        let place = "\(source) line \(lineNumber)"
        let loss = try number(lossCol)
        guard loss > 0 else { throw FitError.nonPositiveLoss(source: place, value: loss) }
        let n = try number(nCol), d = try number(dCol), c = try cCol.map { try number($0) } ?? 0
        for (name, v) in [("N", n), ("D", d), ("C", cCol == nil ? 1 : c)] where !(v > 0) {
            throw FitError.nonPositiveValue(source: place, column: name, value: v)
        }
        var nonemb: Double? = nil
        if let col = nonembCol, !fields[col].isEmpty {
            let v = try number(col)
            guard v > 0 else { throw FitError.nonPositiveValue(source: place, column: "N_nonemb", value: v) }
            nonemb = v
        }
        let budget = try budgetCol.map { try number($0) } ?? 0
        let schedule = scheduleCol.map { fields[$0] }.flatMap { $0.isEmpty ? nil : $0 }
        let id = idCol.map { fields[$0] } ?? "\(source):\(lineNumber)"
        runs.append(FitRun(id: id, budget: budget, parameters: n, nonEmbeddingParameters: nonemb,
                           tokens: d, flops: c, finalLoss: loss, schedule: schedule))
    }
    guard !runs.isEmpty else { throw FitError.noRows(file: source) }
    if budgetCol == nil && cCol != nil { assignBudgetsByFLOPs(&runs) }
    return runs
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
