// Two (or more) schedules of one sweep side by side: per budget the best run under each and the
// loss between them, and what each schedule cost (FLOPs trained, wall time). `isoflop compare`
// prints it; the fits beside it come from Fit.
import Foundation
import Sweep
import Tensor

public enum ComparisonError: Error, CustomStringConvertible, Equatable {
    /// A schedule asked for has no finished run in the sweep.
    case noRuns(schedule: String, sweep: String, available: [String])

    public var description: String {
        switch self {
        case let .noRuns(schedule, sweep, available):
            return "sweep \(sweep): no finished runs with schedule '\(schedule)'"
                + (available.isEmpty ? "" : " (it has \(available.joined(separator: ", ")))")
        }
    }
}

public struct ScheduleComparison {
    /// The schedules compared, in the order asked (or of the sweep's runs).
    public var schedules: [String]
    /// Per budget, increasing: the run of least final eval loss under each schedule (absent
    /// where a schedule has no finished run at that budget).
    public var best: [(budget: Double, runs: [String: RunRecord])]
    /// FLOPs each schedule trained: a run read from a shared run none, a wsd branch its cooldown.
    public var trainedFLOPs: [String: Double]
    /// Wall seconds its runs took, summed over workers.
    public var wallSeconds: [String: Double]

    /// Compares `wanted` (nil: every schedule with finished runs) over the done runs of `results`.
    public init(_ results: SweepResults, schedules wanted: [String]? = nil) throws {
        let done = results.finishedRuns().filter { $0.finalEvalLoss != nil }
        var present: [String] = []
        for r in done where !present.contains(r.plan.schedule.rawValue) { present.append(r.plan.schedule.rawValue) }
        let names = wanted ?? present
        for s in names where !present.contains(s) {
            throw ComparisonError.noRuns(schedule: s, sweep: results.name, available: present)
        }
        guard !names.isEmpty else { throw ComparisonError.noRuns(schedule: "any", sweep: results.name, available: []) }
        schedules = names
        var byBudget: [Double: [String: RunRecord]] = [:]
        trainedFLOPs = [:]
        wallSeconds = [:]
        for r in done where names.contains(r.plan.schedule.rawValue) {
            let s = r.plan.schedule.rawValue
            trainedFLOPs[s, default: 0] += r.plan.trainedFLOPs
            wallSeconds[s, default: 0] += r.wallSeconds ?? 0
            if let b = byBudget[r.plan.budget]?[s]?.finalEvalLoss, let loss = r.finalEvalLoss, b <= loss { continue }
            byBudget[r.plan.budget, default: [:]][s] = r
        }
        best = byBudget.keys.sorted().map { (budget: $0, runs: byBudget[$0]!) }
    }

    /// The table as text: a header, one line per budget (the best shape and its loss under each
    /// schedule, and, for two schedules, the second's loss minus the first's), then each
    /// schedule's FLOPs and wall time, with the share of the first schedule's.
    public func lines() -> [String] {
        let width = 28
        func cell(_ s: String) -> String { s.padding(toLength: width, withPad: " ", startingAt: 0) }
        let two = schedules.count == 2
        var out = ["budget  " + schedules.map(cell).joined() + (two ? "\(schedules[1]) − \(schedules[0])" : "")]
        for (budget, runs) in best {
            var line = formatFLOPs(budget).padding(toLength: 8, withPad: " ", startingAt: 0)
            for s in schedules {
                guard let r = runs[s] else {
                    line += cell("-")
                    continue
                }
                line += cell(String(format: "d=%d L=%d N=%d %.4f", r.plan.model.d, r.plan.model.layers, r.plan.parameters,
                                    r.finalEvalLoss ?? .nan))
            }
            if two, let a = runs[schedules[0]]?.finalEvalLoss, let b = runs[schedules[1]]?.finalEvalLoss {
                line += String(format: "%+.4f", b - a)
            }
            out.append(line)
        }
        let base = trainedFLOPs[schedules[0]] ?? 0, baseWall = wallSeconds[schedules[0]] ?? 0
        for s in schedules {
            let flops = trainedFLOPs[s] ?? 0, wall = wallSeconds[s] ?? 0
            var line = String(format: "%@: trained %@ FLOPs in %.0f s of worker time", s, formatFLOPs(flops), wall)
            if s != schedules[0], base > 0, baseWall > 0 {
                line += String(format: " (%.0f%% of %@'s FLOPs, %.0f%% of its time)", 100 * flops / base, schedules[0],
                               100 * wall / baseWall)
            }
            out.append(line)
        }
        return out
    }
}
