// `isoflop compare`: the matched and fixed halves of a sweep side by side.
import ArgumentParser
import Fit
import Foundation
import Sweep
import Tensor

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Per budget, the best size and its loss under each schedule, and each schedule's fitted exponent a (approach 2).")

    @OptionGroup var source: ResultsSource

    @OptionGroup var resampling: BootstrapOptions<ReportResamples>

    func run() throws {
        let url = try source.url()
        let store = try openExistingStore(url)
        let (name, id) = try store.selectSweep(named: source.sweepChoice.sweep)
        // Approach 2 needs final losses only: no metric rows are read.
        let results = SweepResults(name: name, id: id, runs: try store.finishedRuns(sweep: id, schedule: nil), curves: [:])
        var best: [String: [Double: RunRecord]] = [:]   // schedule → budget → best run
        for r in results.finishedRuns() {
            guard let loss = r.finalEvalLoss else { continue }
            let s = r.plan.schedule.rawValue
            if let b = best[s]?[r.plan.budget]?.finalEvalLoss, b <= loss { continue }
            best[s, default: [:]][r.plan.budget] = r
        }
        let schedules = best.keys.sorted()
        guard !schedules.isEmpty else { throw CLIError("\(url) (sweep \(results.name)): no finished runs") }
        let budgets = Set(best.values.flatMap(\.keys)).sorted()
        var header = "budget  "
        for s in schedules { header += s.padding(toLength: 28, withPad: " ", startingAt: 0) }
        print(header)
        for c in budgets {
            var line = formatFLOPs(c).padding(toLength: 8, withPad: " ", startingAt: 0)
            for s in schedules {
                if let r = best[s]?[c] {
                    let cell = String(format: "d=%d L=%d N=%d %.4f", r.plan.model.d, r.plan.model.layers,
                                      r.plan.parameters, r.finalEvalLoss ?? .nan)
                    line += cell.padding(toLength: 28, withPad: " ", startingAt: 0)
                } else {
                    line += "-".padding(toLength: 28, withPad: " ", startingAt: 0)
                }
            }
            print(line)
        }
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
