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

public final class AdaptiveDriver {
    public let sweep: PlannedSweep
    /// The schedule whose profiles steer the grid: the first adapting one of the config.
    let lead: ScheduleKind?
    let message: (String) -> Void
    var config: SweepConfig { sweep.config }

    /// `message` gets a line for every budget or extra shape planned.
    public init(sweep: PlannedSweep, message: @escaping (String) -> Void) {
        self.sweep = sweep
        self.message = message
        lead = sweep.config.schedules.first(where: AdaptivePlan.adapts)
    }

    /// The trained FLOPs of the budgets not planned yet among the sweep's `runs`, as the config's
    /// own grid would plan them (the later budgets' centred grids have the same number of shapes
    /// near the same optimum), so the progress line's total and ETA cover the whole sweep from
    /// its start.
    public func unplannedFLOPs(_ runs: [RunRecord]) -> Double {
        let planned = Set(runs.filter { AdaptivePlan.adapts($0.plan.schedule) }.map(\.plan.budget))
        return configGrid.filter { !planned.contains($0.budget) }.reduce(0) { $0 + $1.flops }
    }

    /// The adapting schedules' runs of the config's grid (every budget).
    private lazy var configGrid: [PlannedRun] =
        ((try? Planner.plan(config).trainedRuns) ?? []).filter { AdaptivePlan.adapts($0.schedule) }

    /// Plans the next runs when none of the adapting schedules is waiting; returns how many were added.
    @discardableResult
    public func advance() throws -> Int {
        guard lead != nil else { return 0 }
        let adapting = try sweep.store.runs(sweep: sweep.id).filter { AdaptivePlan.adapts($0.plan.schedule) }
        guard !adapting.contains(where: { $0.status == .planned }) else { return 0 }
        let planned = Set(adapting.map(\.plan.budget))
        var vertices: [ProfileVertex] = []
        var added = 0
        for c in planned.sorted() {
            let runs = adapting.filter { $0.plan.budget == c }
            guard !runs.contains(where: { $0.status == .running }),
                  let v = vertex(budget: c, runs.filter { $0.plan.schedule == lead }) else { continue }
            vertices.append(v)
            added += try extend(budget: c, runs, vertex: v)
        }
        if let next = AdaptivePlan.budgets(config).first(where: { !planned.contains($0) }) {
            added += try plan(budget: next, vertices: vertices)
        }
        return added
    }

    /// Extra shapes beyond the edge of an ended budget whose vertex sits near it, once per budget
    /// (not for a budget the config gives its shapes).
    private func extend(budget c: Double, _ runs: [RunRecord], vertex v: ProfileVertex) throws -> Int {
        guard !runs.contains(where: { $0.origin == .extraShape }), !config.budgetGrids.contains(where: { $0.flops == c }),
              let (side, count) = extraShapes(v) else { return 0 }
        let more = try AdaptivePlan.shapesBeyond(config, have: Array(Set(runs.map(\.plan.model))), below: side == .below, count: count)
        guard !more.isEmpty else { return 0 }
        let optimum = v.parameters ?? Double(more[0].parameters)
        let added = try sweep.store.addRuns(sweep: sweep.id, runs: try AdaptivePlan.budgetRuns(config, budget: c, shapes: more, optimum: optimum),
                                            origin: .extraShape)
        let at = v.parameters.map { "its parabola's vertex at N = \(formatWholeCount(Int($0)))" } ?? "its parabola has no minimum and"
        let edge = v.position.map { $0 < 0 || $0 > 1 ? "lies beyond" : "lies in the outer quarter of" } ?? "falls toward"
        message("adaptive grid: \(formatFLOPs(c)): \(more.count) extra shape(s) \(side.rawValue) (\(at) \(edge) its sizes)")
        return added
    }

    /// The next budget: the config's explicit grid where it gives one, else the family shapes
    /// centred on the optimum predicted from the ended budgets' vertices.
    private func plan(budget next: Double, vertices: [ProfileVertex]) throws -> Int {
        let (n, how) = predictOptimum(budget: next, vertices: vertices, coefficient: config.grid.coefficient,
                                      exponent: config.grid.exponent)
        let shapes: [GPTConfig]
        let why: String
        let origin: RunOrigin
        if let explicit = config.budgetGrids.first(where: { $0.flops == next }) {
            (shapes, why, origin) = (explicit.shapes.map(config.model), "the config's explicit grid", .grid)
        } else {
            shapes = try AdaptivePlan.centredShapes(config, budget: next, optimum: n)
            (why, origin) = ("grid centred on N_opt = \(formatWholeCount(Int(n))) predicted by \(how)", .centred)
        }
        let runs = try AdaptivePlan.budgetRuns(config, budget: next, shapes: shapes, optimum: n)
        let added = try sweep.store.addRuns(sweep: sweep.id, runs: runs, origin: origin)
        message("adaptive grid: \(formatFLOPs(next)): \(shapes.count) shapes, \(why)")
        return added
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
