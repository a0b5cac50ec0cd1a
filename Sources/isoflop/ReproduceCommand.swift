// `isoflop reproduce`: the main job in one command — builds what is missing, runs (or resumes)
// the sweep, then fits and reports every schedule it planned (Study's `ReproduceJob`).
import ArgumentParser
import Foundation
import Study
import Sweep

struct ReproduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reproduce",
        abstract: "Run (or resume) the IsoFLOP sweep of a config, then fit it and write the report.")

    @Option(help: "Sweep config.") var config: String = "configs/laptop.toml"
    @Option(help: "Folder for the report.") var out: String = "out/report"
    @Option(help: "Bootstrap resamples for the intervals.") var bootstrap: Int = 1000
    @Option(name: .customLong("horizon-steps"), help: "Steps of each run of the horizon experiment.")
    var horizonSteps: Int = 3000
    @OptionGroup var store: StoreOptions
    @Option(help: "Folder for the runs' checkpoints (default: checkpoints beside an SQLite store; required for PostgreSQL).")
    var checkpoints: String?

    func run() throws {
        let cfg = try SweepConfig.load(path: config)
        var job = ReproduceJob(configFile: config, config: cfg, store: try store.resolved() ?? defaultStoreURL(cfg), out: out)
        job.bootstrap = bootstrap
        job.horizonSteps = horizonSteps
        job.checkpoints = checkpoints
        try job.run()
    }
}
