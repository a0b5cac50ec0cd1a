// The read model of the commands that read results (fit, report, export, compare): one sweep
// chosen by name, its runs and curves read in one pass, and the sweep's `params` knob.
import Foundation
import Tensor

/// What the commands that read results (fit, report, export, compare) take from one sweep,
/// read in one pass: every run, and the metric rows of the done ones.
public struct SweepResults: Sendable {
    public var name: String
    public var id: Int64
    /// Every run of the sweep, in id order, whatever its state.
    public var runs: [RunRecord]
    /// The metric rows of each done run, by run id, in step order.
    public var curves: [Int64: [MetricRow]]
    /// How the sweep's config says its fits count N (`params`): the fit's and the report's
    /// default convention.
    public var params: ParameterConvention

    public init(name: String, id: Int64, runs: [RunRecord], curves: [Int64: [MetricRow]], params: ParameterConvention = .total) {
        self.name = name
        self.id = id
        self.runs = runs
        self.curves = curves
        self.params = params
    }

    /// The done runs, of one schedule or of all, in id order.
    public func finishedRuns(schedule: String? = nil) -> [RunRecord] {
        runs.filter { $0.status == .done && (schedule == nil || $0.plan.schedule.rawValue == schedule) }
    }

    /// The schedules of the sweep's runs, in order of first appearance.
    public var schedules: [String] {
        var seen: [String] = []
        for r in runs where !seen.contains(r.plan.schedule.rawValue) { seen.append(r.plan.schedule.rawValue) }
        return seen
    }

    /// Runs not yet done (planned, running, diverged or failed), in id order.
    public var unfinished: [RunRecord] { runs.filter { $0.status != .done } }
}

extension RunStore {
    /// The sweep a results command reads: the one named, or else the only one in the store
    /// (a learning-rate pilot "X-tune" or "X-wsd-tune" and a trained forecast "X-predict-4e13" beside
    /// its sweep X do not count). Several sweeps and no
    /// name is an error listing them; results of two sweeps never mix.
    public func selectSweep(named name: String?) throws -> (name: String, id: Int64) {
        if let name {
            guard let id = try sweepID(named: name) else { throw StoreError.unknownSweep(name) }
            return (name, id)
        }
        let all = try sweepNames()
        let names = all.filter { !LRPilot.isPilot($0, among: all) && !Prediction.isForecast($0, among: all) }
        guard names.count <= 1 else { throw StoreError.whichSweep(names: names) }
        guard let only = names.first, let id = try sweepID(named: only) else { throw StoreError.noSweep }
        return (only, id)
    }

    /// Every run of the sweep and (unless `withCurves` is false) the curves of the done ones:
    /// two queries. The sweep's `params` is the one its planned runs carry (every run of a sweep
    /// is planned under its config's knob; none recorded: all parameters).
    public func results(sweep name: String?, withCurves: Bool = true) throws -> SweepResults {
        let (name, id) = try selectSweep(named: name)
        let runs = try runs(sweep: id)
        return SweepResults(name: name, id: id, runs: runs, curves: withCurves ? try curves(sweep: id) : [:],
                            params: runs.first?.plan.parameterCount ?? .total)
    }
}
