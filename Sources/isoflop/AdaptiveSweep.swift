// The driver of a sweep whose grids follow the optimum (`[grid] adaptive = true`): whenever no
// run of an adapting schedule is waiting to be claimed, it plans what comes next (extra shapes
// for ended budgets whose vertex sits near an edge, then the next budget, centred on the optimum
// predicted so far), so the workers, which wait while others still hold runs, never run dry.
import Fit
import Foundation
import Model
import Sweep
import Tensor
import Training

final class AdaptiveDriver {
    let config: SweepConfig
    let store: RunStore
    let sweep: Int64
    /// The schedule whose profiles steer the grid: the first adapting one of the config.
    let lead: ScheduleKind?

    init(config: SweepConfig, store: RunStore, sweep: Int64) {
        self.config = config
        self.store = store
        self.sweep = sweep
        lead = config.schedules.first(where: AdaptivePlan.adapts)
    }

    /// The trained FLOPs of the budgets not planned yet among the sweep's `runs`, as the config's
    /// own grid would plan them (the later budgets' centred grids have the same number of shapes
    /// near the same optimum), so the progress line's total and ETA cover the whole sweep from
    /// its start.
    func unplannedFLOPs(_ runs: [RunRecord]) -> Double {
        let planned = Set(runs.filter { AdaptivePlan.adapts($0.plan.schedule) }.map(\.plan.budget))
        return configGrid.filter { !planned.contains($0.budget) }.reduce(0) { $0 + $1.flops }
    }

    /// The adapting schedules' runs of the config's grid (every budget).
    private lazy var configGrid: [PlannedRun] =
        ((try? Planner.plan(config).trainedRuns) ?? []).filter { AdaptivePlan.adapts($0.schedule) }

    /// Plans the next runs when none of the adapting schedules is waiting; returns how many were added.
    func advance() throws -> Int {
        guard let lead else { return 0 }
        let adapting = try store.runs(sweep: sweep).filter { AdaptivePlan.adapts($0.plan.schedule) }
        guard !adapting.contains(where: { $0.status == .planned }) else { return 0 }
        let planned = Set(adapting.map(\.plan.budget))
        var added: [PlannedRun] = []
        var lines: [String] = []
        var vertices: [ProfileVertex] = []
        for c in planned.sorted() {
            let runs = adapting.filter { $0.plan.budget == c }
            guard !runs.contains(where: { $0.status == .running }),
                  let v = vertex(budget: c, runs.filter { $0.plan.schedule == lead }) else { continue }
            vertices.append(v)
            let extended = runs.contains { $0.plan.reason?.hasPrefix("extra") ?? false }
            guard !extended, !config.budgetGrids.contains(where: { $0.flops == c }), let (side, count) = extraShapes(v) else { continue }
            let have = Array(Set(runs.map(\.plan.model)))
            let more = try AdaptivePlan.shapesBeyond(config, have: have, below: side == .below, count: count)
            guard !more.isEmpty else { continue }
            let at = v.parameters.map { "its parabola's vertex at N = \(formatCount(Int($0)))" } ?? "its parabola has no minimum and"
            let edge = v.position.map { $0 < 0 || $0 > 1 ? "lies beyond" : "lies in the outer quarter of" } ?? "falls toward"
            let reason = "extra shape \(side.rawValue) the grid of \(formatFLOPs(c)): \(at) \(edge) its sizes"
            added += try AdaptivePlan.budgetRuns(config, budget: c, shapes: more, optimum: v.parameters ?? Double(more[0].parameters),
                                                 reason: reason)
            lines.append("\(formatFLOPs(c)): \(more.count) extra shape(s) \(side.rawValue) (\(at) \(edge) its sizes)")
        }
        if let next = AdaptivePlan.budgets(config).first(where: { !planned.contains($0) }) {
            let (n, how) = predictOptimum(budget: next, vertices: vertices, coefficient: config.grid.coefficient,
                                          exponent: config.grid.exponent)
            let shapes: [GPTConfig]
            let reason: String
            if let explicit = config.budgetGrids.first(where: { $0.flops == next }) {
                shapes = explicit.shapes.map(config.model)
                reason = "the config's explicit grid"
            } else {
                shapes = try AdaptivePlan.centredShapes(config, budget: next, optimum: n)
                reason = "grid centred on N_opt = \(formatCount(Int(n))) predicted by \(how)"
            }
            added += try AdaptivePlan.budgetRuns(config, budget: next, shapes: shapes, optimum: n, reason: reason)
            lines.append("\(formatFLOPs(next)): \(shapes.count) shapes, \(reason)")
        }
        guard !added.isEmpty else { return 0 }
        let count = try store.addRuns(sweep: sweep, runs: added)
        for l in lines { print("adaptive grid: " + l) }
        return count
    }

    /// The budget's parabola in ln N over its done runs (the median of a shape's seeds).
    func vertex(budget: Double, _ runs: [RunRecord]) -> ProfileVertex? {
        var byShape: [GPTConfig: [Double]] = [:]
        for r in runs where r.status == .done {
            if let loss = r.finalEvalLoss ?? r.finalTrainLoss { byShape[r.plan.model, default: []].append(loss) }
        }
        let shapes = byShape.keys.sorted { $0.parameters < $1.parameters }
        return profileVertex(budget: budget, parameters: shapes.map { Double($0.parameters) },
                             losses: shapes.map { SeedAggregate.median.combine(byShape[$0]!) })
    }
}

/// Workers started elsewhere (a Slurm array, `isoflop worker`) only train what is planned: an
/// adaptive grid's later budgets are planned by `sweep run`'s driver, so those paths refuse it.
func refuseAdaptiveWithoutDriver(_ cfg: SweepConfig, file: String) throws {
    guard cfg.grid.adaptive else { return }
    throw CLIError("\(file): grid.adaptive = true plans budgets as earlier ones finish, which only `sweep run` "
                   + "(or `reproduce`) does; set it to false for workers started elsewhere")
}
