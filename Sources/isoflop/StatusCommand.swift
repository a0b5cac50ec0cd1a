// `isoflop sweep status`: runs by state, FLOPs done, recent throughput, ETA and the workers
// alive for every sweep of a store; `--watch` redraws it.
import ArgumentParser
import Foundation
import Study
import Sweep
#if canImport(Glibc)
import Glibc
#endif

struct SweepStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Runs by state, FLOPs done, recent throughput, ETA and live workers of every sweep in a store.")

    @OptionGroup var store: StoreOptions
    @Option(help: "Show only this sweep (default: every sweep of the store, each under its name).") var sweep: String?
    @Flag(help: "List every run.") var runs = false
    @Option(help: "Minutes of recent work the throughput and ETA are measured over.") var minutes: Double = 5
    @Option(help: "Redraw every this many seconds until no run is left (Ctrl-C to stop watching).") var watch: Double?

    func validate() throws {
        guard minutes > 0 else { throw ValidationError("--minutes must be positive, not \(minutes)") }
        if let watch, !(watch.isFinite && watch > 0) { throw ValidationError("--watch must be a positive, finite number of seconds, not \(watch)") }
    }

    func run() throws {
        let store = try openExistingStore(try self.store.required())
        func render() throws -> [String] { try statusLines(store, sweep: sweep, listRuns: runs, window: minutes * 60) }
        guard let watch else {
            print(try render().joined(separator: "\n"))
            return
        }
        installStopHandler()
        let live = isatty(STDOUT_FILENO) != 0
        while !stopRequested {
            let lines = try render()
            // On a terminal: clear and redraw in place; in a log: one block per refresh.
            print((live ? "\u{1B}[H\u{1B}[2J" : "") + lines.joined(separator: "\n"))
            fflush(stdout)
            if try statusFinished(store, sweep: sweep) { return }
            Thread.sleep(forTimeInterval: watch)
        }
    }
}
