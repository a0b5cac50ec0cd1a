// `isoflop reproduce`: the main job in one command — builds what is missing, runs (or resumes)
// the sweep, then fits and reports it. Each stage runs as this same program, so an
// interruption anywhere is resumed by running the command again.
import ArgumentParser
import Foundation
import Fit
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
        let store = try self.store.resolved() ?? defaultStorePath(cfg)
        try runStage(["sweep", "run", config, "--store", store, "--report", out] + (checkpoints.map { ["--checkpoints", $0] } ?? []))
        // The horizon experiment (figure 4): one shape under cycles of 1×, 1.5×, 2× and 5× its
        // steps; about two minutes, run once.
        let horizon = "\(out)/horizon.csv"
        if !FileManager.default.fileExists(atPath: horizon) {
            try runStage(["horizon", "--corpus", cfg.corpus, "--vocab", "\(cfg.vocab)", "--batch", "\(cfg.batch)",
                       "--steps", "\(horizonSteps)", "--eval-every", "\(max(1, horizonSteps / 30))", "--out", horizon])
        }
        try runStage(["report", "--store", store, "--out", out, "--bootstrap", "\(bootstrap)", "--horizon", horizon])
        // Both bootstrap designs: residuals (fixed design, the default) and resampled runs.
        for s in ["matched", "fixed"] {
            for method in BootstrapMethod.allCases {
                let suffix = method == .residuals ? "" : "-\(method.rawValue)"
                try runStage(["fit", "--store", store, "--schedule", s, "--bootstrap", "\(bootstrap)",
                           "--bootstrap-method", method.rawValue, "--json", "\(out)/fit-\(s)\(suffix).json"])
            }
        }
    }
}

/// Runs this same program with `args` as one stage of a longer job; a stage that fails ends the job with its status.
func runStage(_ args: [String]) throws {
    // What this process printed so far goes before the stage's output in a log file too.
    fflush(stdout)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    p.arguments = args
    try p.run()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else {
        throw ExitCode(p.terminationStatus)
    }
}
