// `isoflop compare`: the matched and fixed halves of a sweep side by side.
import ArgumentParser
import Fit
import Foundation
import Study
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
        let comparison = try compareSchedules(url, sweep: source.sweepChoice.sweep, bootstrap: resampling.bootstrap, seed: resampling.seed)
        print("budget  " + comparison.schedules.map { pad($0, -28) }.joined())
        for c in comparison.budgets {
            let cells = comparison.schedules.map { s -> String in
                guard let r = comparison.best[s]?[c] else { return pad("-", -28) }
                return pad(String(format: "d=%d L=%d N=%d %.4f", r.plan.model.d, r.plan.model.layers, r.plan.parameters,
                                  r.finalEvalLoss ?? .nan), -28)
            }
            print(pad(formatFLOPs(c), -8) + cells.joined())
        }
        let counting = comparison.convention == .nonEmbedding ? "non-embedding parameters" : "all parameters"
        for (s, result) in comparison.fits {
            do {
                for e in try result.get().exponents {
                    let i = e.a.interval95.map { String(format: " [%.3f, %.3f]", $0.lower, $0.upper) } ?? ""
                    print(String(format: "%@: a = %.3f%@ (approach 2, %@)", s, e.a.value, i, counting))
                }
            } catch {
                print("\(s): no fit (\(error))")
            }
        }
    }
}
