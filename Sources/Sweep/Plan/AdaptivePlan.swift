// Grids that follow the optimum (`[grid] adaptive = true`): budgets are planned smallest first,
// each centred on the optimum predicted from the budgets already finished, and a budget whose
// vertex lies near the edge of its sizes gets shapes beyond that edge. The fixed schedule's runs
// share one cycle, which needs every shape up front: they stay on the config's grid.
import Foundation
import Model
import Tensor
import Training

public enum AdaptivePlan {
    /// Whether runs of this schedule follow the optimum (all but `fixed`).
    public static func adapts(_ kind: ScheduleKind) -> Bool { kind != .fixed }

    /// Every budget of the config, smallest first (explicit grids' budgets included).
    public static func budgets(_ config: SweepConfig) -> [Double] {
        Set(config.budgets + config.budgetGrids.map(\.flops)).sorted()
    }

    /// What is planned before any budget has ended: the fixed schedule's runs of every budget on
    /// the config's grid, and the two smallest budgets' other runs centred on the config's
    /// prediction (two budgets, so both workers start busy and the third has a line to follow).
    public static func initialRuns(_ config: SweepConfig) throws -> [PlannedRun] {
        let full = try Planner.plan(config).runs
        let first = Set(budgets(config).prefix(2))
        let kept: [PlannedRun] = full.compactMap { r in
            if !adapts(r.schedule) { return r }
            guard first.contains(r.budget) else { return nil }
            var r = r
            r.reason = "grid centred on the config's prediction"
            return r
        }
        // A wsd trunk may be a run of a later budget, left out here: branch among those kept.
        return config.shareWSD ? Planner.branchRuns(kept) : kept
    }

    /// The family shapes of one budget centred (in ln N) on `optimum`: the config's `sizes` nearest
    /// within its `width`, as the fixed grid picks them around its own prediction.
    public static func centredShapes(_ config: SweepConfig, budget: Double, optimum: Double) throws -> [GPTConfig] {
        var grid = config.grid
        grid.coefficient = optimum / pow(budget, grid.exponent)
        let shapes = Planner.gridShapes(try config.familyShapes(), budget: budget, grid: grid, sizes: config.gridSizes(at: budget))
        guard !shapes.isEmpty else { throw PlanError.invalid("no family shape within the grid width of N = \(Int(optimum)) at budget \(formatFLOPs(budget))") }
        return shapes
    }

    /// Up to `count` family shapes just beyond the smallest (`below`) or largest N of `have`.
    public static func shapesBeyond(_ config: SweepConfig, have: [GPTConfig], below: Bool, count: Int) throws -> [GPTConfig] {
        let family = try config.familyShapes()
        guard let lo = have.map(\.parameters).min(), let hi = have.map(\.parameters).max() else { return [] }
        let outside = below ? family.filter { $0.parameters < lo }.reversed() : family.filter { $0.parameters > hi }
        return Array(outside.prefix(count))
    }

    /// One budget's runs of the adapting schedules for `shapes`, with their seeds chosen around
    /// `optimum` and `reason` recorded with each run.
    public static func budgetRuns(_ config: SweepConfig, budget: Double, shapes: [GPTConfig], optimum: Double,
                                  reason: String) throws -> [PlannedRun] {
        var one = config
        one.budgets = [budget]
        one.grid.perBudget = nil  // the explicit grid below names the budget's shapes
        one.budgetGrids = [BudgetGrid(flops: budget, shapes: shapes.map { ShapeSpec(d: $0.d, L: $0.layers, head: $0.headSize) })]
        one.schedules = config.schedules.filter(adapts)
        one.grid.coefficient = optimum / pow(budget, one.grid.exponent)
        guard !one.schedules.isEmpty else { return [] }
        return try Planner.plan(one).runs.map { r in
            var r = r
            r.reason = reason
            return r
        }
    }
}
