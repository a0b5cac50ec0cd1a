// `isoflop sweep status`: runs by state, FLOPs done, recent throughput, ETA and the workers
// alive for every sweep of a store; `--watch` redraws it.
import ArgumentParser
import Foundation
import Study
import Sweep
import Tensor
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
        guard let watch else {
            print(try render(store).joined(separator: "\n"))
            return
        }
        installStopHandler()
        let live = isatty(STDOUT_FILENO) != 0
        while !stopRequested {
            let lines = try render(store)
            // On a terminal: clear and redraw in place; in a log: one block per refresh.
            print((live ? "\u{1B}[H\u{1B}[2J" : "") + lines.joined(separator: "\n"))
            fflush(stdout)
            if try allFinished(store) { return }
            Thread.sleep(forTimeInterval: watch)
        }
    }

    /// The sweeps shown, by name and id.
    func sweeps(_ store: RunStore) throws -> [(name: String, id: Int64)] {
        if let sweep { return [try store.selectSweep(named: sweep)] }
        return try store.sweepNames().compactMap { name in try store.sweepID(named: name).map { (name, $0) } }
    }

    func allFinished(_ store: RunStore) throws -> Bool {
        for (_, id) in try sweeps(store) {
            if try store.runs(sweep: id).contains(where: { $0.status == .planned || $0.status == .running }) { return false }
        }
        return true
    }

    func render(_ store: RunStore) throws -> [String] {
        var lines: [String] = []
        let now = Date().timeIntervalSince1970
        for (name, id) in try sweeps(store) {
            let records = try store.runs(sweep: id)
            let p = SweepProgress(records.map(RunProgress.init), now: now, window: minutes * 60)
            let states = RunStatus.allCases.map { "\($0.rawValue) \(p.byStatus[$0] ?? 0)" }.joined(separator: ", ")
            lines.append("sweep \(name): \(p.total) runs (\(states))")
            lines.append(String(format: "  FLOPs %@ of %@ (%.1f%%)", formatFLOPs(p.doneFLOPs), formatFLOPs(p.totalFLOPs),
                                100 * p.doneFLOPs / max(p.totalFLOPs, 1)))
            let rate = p.recentFLOPsPerSecond.map { String(format: "%.3g FLOP/s over the last %@", $0, formatDuration(p.windowSeconds)) }
                ?? "no work in the last \(formatDuration(minutes * 60))"
            lines.append("  throughput \(rate); ETA \(p.etaSeconds.map(formatDuration) ?? "unknown")")
            // A live lease is not a live worker: one killed with SIGKILL keeps its lease until it
            // runs out. On this machine the pid tells.
            let here = ProcessInfo.processInfo.hostName
            let alive = p.workers.filter { $0.host != here || processIsAlive($0.pid) }
            let gone = p.workers.filter { $0.host == here && !processIsAlive($0.pid) }
            lines.append("  workers alive: \(alive.count)" + (gone.isEmpty ? "" : "; gone from this machine: "
                + gone.map { "pid \($0.pid)" }.joined(separator: ", ") + " (their runs resume at the next sweep run)"))
            let held = records.filter { $0.status == .running && ($0.leaseExpiry ?? 0) > now }
            for w in alive {
                for r in held where r.worker == w.name {
                    lines.append("    \(w.host) pid \(w.pid): \(r.plan.key) step \(r.step)/\(r.plan.steps)"
                                 + (r.attempts > 1 ? " (attempt \(r.attempts))" : ""))
                }
            }
            // Runs read from a shared run hold no lease of their own.
            let expired = records.filter { $0.status == .running && $0.sharedFrom == nil && ($0.leaseExpiry ?? 0) <= now }
            if !expired.isEmpty {
                lines.append("  \(expired.count) run(s) with an expired lease, to be taken over by the next worker that claims")
            }
            guard runs else { continue }
            for r in records {
                let loss = r.finalEvalLoss ?? r.finalTrainLoss ?? r.lastLoss
                lines.append(String(format: "  %4d ", Int(r.id)) + pad(r.plan.key, -34) + " " + pad(r.status.rawValue, -8)
                             + String(format: " step %6d/%-6d loss ", r.step, r.plan.steps)
                             + (loss.map { String(format: "%.4f", $0) } ?? "-")
                             + (r.tokensPerSecond.map { String(format: "  %.0f tok/s", $0) } ?? "")
                             + (r.sharedFrom.map { "  read from \($0)" } ?? ""))
            }
        }
        return lines
    }
}
