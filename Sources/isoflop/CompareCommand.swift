// `isoflop compare`: the schedules of a sweep side by side (any two, or all).
import ArgumentParser
import Foundation
import Study
import Sweep

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
        let comparison = try compareSchedules(url, sweep: source.sweepChoice.sweep, schedules: schedules,
                                              bootstrap: resampling.bootstrap, seed: resampling.seed)
        for line in comparison.lines { print(line) }
    }
}
