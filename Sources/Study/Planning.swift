// Planning a study into its store, once: the runs a config plans up front (with why each was
// planned), the check that there is something to train, and the sweep created or grown in the
// store. A rerun of the same command finds the same sweep and resumes it.
import Foundation
import Sweep

/// A sweep as planned into a store: what the drivers and workers of a study share.
public struct PlannedSweep {
    public let config: SweepConfig
    /// The store's URL (password included: never print it, pass it to children in the environment).
    public let url: String
    public let store: RunStore
    public let id: Int64

    public init(config: SweepConfig, url: String, store: RunStore, id: Int64) {
        self.config = config
        self.url = url
        self.store = store
        self.id = id
    }
}

/// The runs to store for a sweep, each batch with why its runs were planned.
public struct RunBatches {
    public var batches: [(origin: RunOrigin, runs: [PlannedRun])]
    /// Whether a stored sweep of the same name takes these runs as additions (an adaptive grid,
    /// a pilot) rather than having to hold exactly them.
    public var grows: Bool
    /// The planner's warnings (budgets below one step of a shape, many epochs, …).
    public var warnings: [String] = []

    public init(_ batches: [(origin: RunOrigin, runs: [PlannedRun])], grows: Bool, warnings: [String] = []) {
        self.batches = batches
        self.grows = grows
        self.warnings = warnings
    }

    public var runs: [PlannedRun] { batches.flatMap(\.runs) }

    /// What a config plans before any run has ended: its whole grid, or for an adaptive grid the
    /// fixed schedule's grid and the two smallest budgets centred on the config's prediction
    /// (the driver plans the rest as budgets end).
    public static func initial(_ plan: SweepPlan) -> RunBatches {
        guard plan.config.grid.adaptive else { return RunBatches([(.grid, plan.runs)], grows: false, warnings: plan.warnings) }
        let (grid, centred) = AdaptivePlan.initialRuns(of: plan)
        return RunBatches([(.grid, grid), (.centred, centred)], grows: true, warnings: plan.warnings)
    }
}

/// Plans `batches` of the sweep `cfg` into the store at `url` (created if missing): the sweep is
/// created, or, when the store holds it, checked to be the same plan (or, for a plan that
/// grows, given the runs it lacks). A plan without runs is refused before the store is opened.
public func planIntoStore(_ cfg: SweepConfig, _ batches: RunBatches, url: String) throws -> PlannedSweep {
    guard !batches.runs.isEmpty else { throw StudyError.emptyPlan(sweep: cfg.name, warnings: batches.warnings) }
    let store = try openStoreForPlanning(url)
    let json = try cfg.storedJSON()
    if batches.grows, let id = try store.sweepID(named: cfg.name) {
        for (origin, runs) in batches.batches { _ = try store.addRuns(sweep: id, runs: runs, origin: origin) }
        return PlannedSweep(config: cfg, url: url, store: store, id: id)
    }
    let first = batches.batches[0]
    let id = try store.createSweep(name: cfg.name, configJSON: json, runs: first.runs, origin: first.origin)
    for (origin, runs) in batches.batches.dropFirst() { _ = try store.addRuns(sweep: id, runs: runs, origin: origin) }
    return PlannedSweep(config: cfg, url: url, store: store, id: id)
}

/// Plans the config's initial runs into the store (`sweep plan --store`, `sweep slurm`).
public func planIntoStore(_ cfg: SweepConfig, url: String) throws -> PlannedSweep {
    try planIntoStore(cfg, RunBatches.initial(Planner.plan(cfg)), url: url)
}

/// The sweep stored under `name` (or the store's only one), its config read back from the store
/// and checked, for resuming it.
public func storedSweep(url: String, name: String?) throws -> PlannedSweep {
    let store = try openExistingStore(url, forWriting: true)
    let names = try store.sweepNames()
    guard let name = name ?? (names.count == 1 ? names[0] : nil) else { throw StudyError.sweepChoice(names: names) }
    guard let id = try store.sweepID(named: name) else { throw StoreError.unknownSweep(name) }
    return PlannedSweep(config: try storedConfig(store, sweep: id, name: name, url: url), url: url, store: store, id: id)
}

/// The config the sweep `name` was planned with, as its store keeps it (read-only).
public func storedConfig(_ url: String, sweep name: String) throws -> SweepConfig {
    let store = try openExistingStore(url)
    guard let id = try store.sweepID(named: name) else { throw StoreError.unknownSweep(name) }
    return try storedConfig(store, sweep: id, name: name, url: url)
}

private func storedConfig(_ store: RunStore, sweep id: Int64, name: String, url: String) throws -> SweepConfig {
    let place = "\(redactedStoreURL(url)) (sweep \(name))"
    let cfg = try ConfigDecoder.decode(SweepConfig.self, fromJSON: try store.sweepConfigJSON(sweep: id), file: place)
    try cfg.validate(file: place)
    return cfg
}
