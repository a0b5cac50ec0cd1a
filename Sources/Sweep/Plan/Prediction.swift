// The sweep that trains a forecast: at a budget beyond a finished sweep, the family shapes
// nearest to the forecast N_opt and to its neighbours, with everything else as the sweep had it.
import Foundation
import Model
import Tensor
import Training

public enum Prediction {
    /// The sweep name a forecast of `sweep` at `budget` is trained under, in the same store:
    /// "<sweep>-predict-4e13", one per budget, so forecasts at several budgets live side by side.
    public static func sweepName(_ sweep: String, budget: Double) -> String { sweep + "-predict-" + formatFLOPs(budget) }

    /// Whether `name` is a trained forecast of `sweep`: "<sweep>-predict-<C>", or "<sweep>-predict"
    /// as stores written before forecasts were named by budget hold it.
    public static func isForecast(_ name: String, of sweep: String) -> Bool {
        name == sweep + "-predict" || name.hasPrefix(sweep + "-predict-")
    }

    /// Whether `name` is the trained forecast of another sweep among `names`.
    public static func isForecast(_ name: String, among names: [String]) -> Bool {
        names.contains { isForecast(name, of: $0) }
    }

    /// The distinct family shapes nearest in ln N to each of `targets`, smallest N first. Two
    /// targets that land on one shape take it once; then the next nearest unused shape stands in,
    /// so the forecast is bracketed by as many shapes as targets where the family allows.
    public static func nearestShapes(_ config: SweepConfig, targets: [Double]) throws -> [GPTConfig] {
        let family = try config.familyShapes()
        var chosen: [GPTConfig] = []
        for target in targets where target > 0 {
            let byDistance = family.sorted { abs(log(Double($0.parameters) / target)) < abs(log(Double($1.parameters) / target)) }
            if let shape = byDistance.first(where: { s in !chosen.contains { $0.parameters == s.parameters } }) {
                chosen.append(shape)
            }
        }
        return chosen.sorted { $0.parameters < $1.parameters }
    }

    /// `config` narrowed to one budget, one schedule and the given shapes, under the forecast
    /// sweep's name: the same corpus, batch, LR rule, warmup, evaluation and seeds.
    public static func config(_ config: SweepConfig, budget: Double, schedule: ScheduleKind,
                              shapes: [GPTConfig]) -> SweepConfig {
        var one = config
        one.name = sweepName(config.name, budget: budget)
        one.budgets = [budget]
        one.schedules = [schedule]
        one.grid.adaptive = false
        one.grid.perBudget = nil
        one.budgetGrids = [BudgetGrid(flops: budget, shapes: shapes.map { ShapeSpec(d: $0.d, L: $0.layers, head: $0.headSize) })]
        return one
    }
}
