// The main job in one call (`isoflop reproduce`): the sweep with its live report, the horizon
// experiment, the report, and both bootstrap designs of the fit of every schedule the config
// plans. Each stage runs as a child of this program (its store in the environment), so an
// interruption anywhere is resumed by running the job again.
import Fit
import Foundation
import Sweep

public struct ReproduceJob {
    /// The sweep config's file, and the config read from it.
    public var configFile: String
    public var config: SweepConfig
    public var store: String
    public var out: String
    public var bootstrap = 1000
    /// Steps of each run of the horizon experiment.
    public var horizonSteps = 3000
    public var checkpoints: String?

    public init(configFile: String, config: SweepConfig, store: String, out: String) {
        self.configFile = configFile
        self.config = config
        self.store = store
        self.out = out
    }

    /// The stages' command lines, in order. The horizon experiment (figure 4: one shape under
    /// cycles of 1×, 1.5×, 2× and 5× its steps, about two minutes) runs once: not when its CSV
    /// is there. A one-schedule study fits and reports that schedule alone.
    public var stages: [[String]] {
        var stages = [["sweep", "run", configFile, "--report", out] + (checkpoints.map { ["--checkpoints", $0] } ?? [])]
        let horizon = "\(out)/horizon.csv"
        if !FileManager.default.fileExists(atPath: horizon) {
            stages.append(["horizon", "--corpus", config.corpus, "--vocab", "\(config.vocab)", "--batch", "\(config.batch)",
                           "--steps", "\(horizonSteps)", "--eval-every", "\(max(1, horizonSteps / 30))", "--out", horizon])
        }
        stages.append(["report", "--out", out, "--bootstrap", "\(bootstrap)", "--horizon", horizon])
        for s in config.schedules.map(\.rawValue) {
            for method in BootstrapMethod.allCases {
                let suffix = method == .residuals ? "" : "-\(method.rawValue)"
                stages.append(["fit", "--schedule", s, "--bootstrap", "\(bootstrap)",
                               "--bootstrap-method", method.rawValue, "--json", "\(out)/fit-\(s)\(suffix).json"])
            }
        }
        return stages
    }

    /// Runs every stage to its end; the first that fails ends the job (`StudyError.stageFailed`).
    public func run() throws {
        for stage in stages { try ChildCommand(stage, store: store).runStage() }
    }
}
