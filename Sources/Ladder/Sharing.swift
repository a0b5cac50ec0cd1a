// Runs that two rungs of a ladder share: identical training (same model, data, steps, batch,
// learning-rate schedule, optimizer and seed) is trained once, and every other rung that plans
// it takes a copy of its result.
import Foundation
import Sweep
import Training

/// What decides a run's training, as one string: its trainer config as sorted-key JSON, with a
/// `fixed` cosine whose cycle is exactly the run's length written as the `matched` cosine it
/// equals step for step. The budget, its FLOP counting and the fit's N are not in it: two rungs
/// that count the same training differently share it.
public func trainingFingerprint(_ run: PlannedRun) throws -> String {
    var config = try run.trainConfig()
    if config.schedule.kind == .fixed, config.schedule.cycleSteps == config.steps {
        config.schedule.kind = .matched
        config.schedule.cycleSteps = nil
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(config), as: UTF8.self)
}

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
public func sharedRuns(targets: [RunRecord], donors: [RunRecord]) throws -> [SharedRun] {
    var ended: [String: Int64] = [:]
    for d in donors.sorted(by: { $0.id < $1.id }) where d.status == .done || d.status == .diverged {
        let key = try trainingFingerprint(d.plan)
        if ended[key] == nil { ended[key] = d.id }
    }
    var out: [SharedRun] = []
    for t in targets where t.status == .planned {
        if let source = ended[try trainingFingerprint(t.plan)], source != t.id {
            out.append(SharedRun(source: source, target: t.id))
        }
    }
    return out
}

/// What a ladder trains: the distinct trainings among `runs`, each once however many rungs plan
/// it, leaving out runs read from a longer run of their own sweep (`sharedFrom`).
public func distinctTrainings(_ runs: [PlannedRun]) throws -> [PlannedRun] {
    var seen = Set<String>()
    return try runs.filter { try $0.sharedFrom == nil && seen.insert(trainingFingerprint($0)).inserted }
}
