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
    /// the config's grid (`grid`), and the two smallest budgets' other runs centred on the
    /// config's prediction (`centred`; two budgets, so both workers start busy and the third has
    /// a line to follow).
    public static func initialRuns(_ config: SweepConfig) throws -> (grid: [PlannedRun], centred: [PlannedRun]) {
        initialRuns(of: try Planner.plan(config))
    }

    /// `initialRuns` of a config already planned.
    public static func initialRuns(of plan: SweepPlan) -> (grid: [PlannedRun], centred: [PlannedRun]) {
        let first = Set(budgets(plan.config).prefix(2))
        let centred = plan.runs.filter { adapts($0.schedule) && first.contains($0.budget) }
        // A wsd trunk may be a run of a later budget, left out here: branch among those kept
        // (wsd runs adapt, so all of them are among the centred ones).
        return (plan.runs.filter { !adapts($0.schedule) }, plan.config.shareWSD ? Planner.branchRuns(centred) : centred)
    }

    /// The family shapes of one budget centred (in ln N) on `optimum`: the config's `sizes` nearest
    /// within its `width`, as the fixed grid picks them around its own prediction.
    public static func centredShapes(_ config: SweepConfig, budget: Double, optimum: Double) throws -> [GPTConfig] {
        let shapes = Planner.gridShapes(try config.familyShapes(), optimum: optimum, width: config.grid.width,
                                        sizes: config.gridSizes(at: budget))
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
    /// `optimum`.
    public static func budgetRuns(_ config: SweepConfig, budget: Double, shapes: [GPTConfig], optimum: Double) throws -> [PlannedRun] {
        var one = config
        one.budgets = [budget]
        one.grid.perBudget = nil  // the explicit grid below names the budget's shapes
        one.budgetGrids = [BudgetGrid(flops: budget, shapes: shapes.map { ShapeSpec(d: $0.d, L: $0.layers, head: $0.headSize) })]
        one.schedules = config.schedules.filter(adapts)
        guard !one.schedules.isEmpty else { return [] }
        return try Planner.plan(one, optima: [budget: optimum]).runs
    }
}
