// `isoflop compare`: the schedules of a sweep side by side (any two, or all).
import ArgumentParser
import Fit
import Report
import Foundation
import Sweep
import Tensor

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Per budget, the best size and its loss under each schedule, and each schedule's fitted exponent a (approach 2).")

    @OptionGroup var source: ResultsSource

    @OptionGroup var resampling: BootstrapOptions<ReportResamples>

    @Option(help: ArgumentHelp("The schedules to compare, comma-separated (default: every schedule of the sweep).", valueName: "a,b"),
            transform: { $0.split(separator: ",").map(String.init) })
    var schedules: [String]?

    func run() throws {
        let url = try source.url()
        let store = try openExistingStore(url)
        let (name, id) = try store.selectSweep(named: source.sweepChoice.sweep)
        // Approach 2 needs final losses only: no metric rows are read.
        let results = SweepResults(name: name, id: id, runs: try store.finishedRuns(sweep: id, schedule: nil), curves: [:])
        let comparison = try ScheduleComparison(results, schedules: schedules)
        for line in comparison.lines() { print(line) }
        let schedules = comparison.schedules
        for s in schedules {
            do {
                var options = FitOptions()
                options.approaches = [2]
                options.bootstrapResamples = resampling.bootstrap
                options.seed = resampling.seed
                let fit = try fitScalingLaws(try fitRuns(results, schedule: s, source: url), options: options)
                for e in fit.exponents {
                    let i = e.a.interval95.map { String(format: " [%.3f, %.3f]", $0.lower, $0.upper) } ?? ""
                    print(String(format: "%@: a = %.3f%@ (approach 2, all parameters)", s, e.a.value, i))
                }
            } catch {
                print("\(s): no fit (\(error))")
            }
        }
    }
}
