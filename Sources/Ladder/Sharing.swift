// Runs that two rungs of a ladder share: identical training (`PlannedRun.training`: same model,
// data, steps, batch, learning-rate schedule, optimizer and seed) is trained once, and every other
// rung that plans it takes a copy of its result.
import Foundation
import Sweep
import Training

/// One copy to make: the planned run `target` trains exactly as the ended run `source` did.
public struct SharedRun: Equatable, Sendable {
    public var source: Int64
    public var target: Int64

    public init(source: Int64, target: Int64) {
        self.source = source
        self.target = target
    }
}

/// The planned runs of `targets` whose training some ended (done or diverged) run of `donors`
/// already did, each with the donor it copies (the first such donor in id order).
public func sharedRuns(targets: [RunRecord], donors: [RunRecord]) -> [SharedRun] {
    var ended: [TrainConfig: Int64] = [:]
    for d in donors.sorted(by: { $0.id < $1.id }) where d.status == .done || d.status == .diverged {
        let key = d.plan.training
        if ended[key] == nil { ended[key] = d.id }
    }
    var out: [SharedRun] = []
    for t in targets where t.status == .planned {
        if let source = ended[t.plan.training], source != t.id {
            out.append(SharedRun(source: source, target: t.id))
        }
    }
    return out
}

/// What a ladder trains: the distinct trainings among `runs`, each once however many rungs plan
/// it, leaving out runs read from a longer run of their own sweep (`sharedFrom`).
public func distinctTrainings(_ runs: [PlannedRun]) -> [PlannedRun] {
    var seen = Set<TrainConfig>()
    return runs.filter { $0.sharedFrom == nil && seen.insert($0.training).inserted }
}
