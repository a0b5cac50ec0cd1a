// What a study shows people while it trains and when asked: the live progress block of
// `sweep run` (and of every command that trains a sweep) and `sweep status`'s summary of a
// store. Both build text; the caller's closure writes it.
import Foundation
import Sweep
import Tensor

/// The live view: one block redrawn in place on a terminal, plain lines otherwise.
public final class ProgressView {
    let live: Bool
    let write: (String) -> Void
    var drawnLines = 0
    var lastPlain = ""
    var lastPlainTime = Date.distantPast

    /// `write` gets the text exactly as it goes out, line ends included.
    public init(live: Bool, write: @escaping (String) -> Void) {
        self.live = live
        self.write = write
    }

    /// Hooks that write a study's lines and draw its progress in a new view.
    public static func hooks(live: Bool, write: @escaping (String) -> Void) -> TrainHooks {
        let view = ProgressView(live: live, write: write)
        return TrainHooks(message: { write($0 + "\n") }, progress: view.draw)
    }

    public func draw(_ snapshot: SweepSnapshot) {
        let lines = progressLines(snapshot)
        live ? redraw(lines) : printPlain(lines, final: snapshot.final)
    }

    private func redraw(_ lines: [String]) {
        var out = drawnLines > 0 ? "\u{1B}[\(drawnLines)A" : ""
        for l in lines { out += "\u{1B}[2K" + l + "\n" }
        // Clear lines left over from a taller previous frame.
        for _ in lines.count..<max(drawnLines, lines.count) { out += "\u{1B}[2K\n" }
        write(out)
        drawnLines = max(drawnLines, lines.count)
    }

    /// Plain lines: the summary when a run finishes, and at most every 30 s otherwise.
    private func printPlain(_ lines: [String], final: Bool) {
        let head = lines[0].components(separatedBy: "  FLOPs")[0]
        if head != lastPlain || final || Date().timeIntervalSince(lastPlainTime) >= 30 {
            write(lines.joined(separator: "\n") + "\n")
            lastPlain = head
            lastPlainTime = Date()
        }
    }
}

/// The progress line (FLOPs an adaptive grid has still to plan counted in the total and the
/// ETA and shown as "+ ... to plan") and, below it, every run being trained.
public func progressLines(_ snapshot: SweepSnapshot) -> [String] {
    let s = snapshot.progress
    let finished = (s.byStatus[.done] ?? 0) + (s.byStatus[.diverged] ?? 0) + (s.byStatus[.failed] ?? 0)
    let unplanned = snapshot.unplannedFLOPs
    let toPlan = unplanned > 0 ? " (+\(formatFLOPs(unplanned)) to plan)" : ""
    var lines = [String(format: "runs %d/%d (%d diverged, %d failed)  FLOPs %@/%@%@ (%.1f%%)  elapsed %@  ETA %@",
                        finished, s.total, s.byStatus[.diverged] ?? 0, s.byStatus[.failed] ?? 0, formatFLOPs(s.doneFLOPs),
                        formatFLOPs(s.totalFLOPs), toPlan, 100 * s.doneFLOPs / max(snapshot.totalFLOPs, 1),
                        formatDuration(snapshot.elapsed), snapshot.final ? "-" : formatDuration(snapshot.etaSeconds))]
    let running = snapshot.runs.filter { $0.status == .running && $0.sharedFrom == nil }
    for r in running.sorted(by: { ($0.worker ?? "") < ($1.worker ?? "") }) {
        lines.append(String(format: "  %@: %@  step %d/%d  loss %@", r.worker ?? "?", r.plan.key, r.step, r.plan.steps,
                            r.lastLoss.map { String(format: "%.4f", $0) } ?? "-"))
    }
    return lines
}

/// The sweeps `sweep status` shows, by name and id: the one named, else every sweep of the store.
public func statusSweeps(_ store: RunStore, named sweep: String?) throws -> [(name: String, id: Int64)] {
    if let sweep { return [try store.selectSweep(named: sweep)] }
    return try store.sweepNames().compactMap { name in try store.sweepID(named: name).map { (name, $0) } }
}

/// Whether every run of the sweeps shown has ended (none planned or running).
public func statusFinished(_ store: RunStore, sweep: String?) throws -> Bool {
    for (_, id) in try statusSweeps(store, named: sweep) {
        if try store.runs(sweep: id).contains(where: { $0.status == .planned || $0.status == .running }) { return false }
    }
    return true
}

/// `sweep status`: per sweep its runs by state, FLOPs done, throughput over the last `window`
/// seconds, the ETA, the workers alive (a worker on this machine whose pid is gone is named as
/// such), the runs they hold and, with `listRuns`, every run.
public func statusLines(_ store: RunStore, sweep: String?, listRuns: Bool, window: Double,
                        now: Double = Date().timeIntervalSince1970) throws -> [String] {
    var lines: [String] = []
    for (name, id) in try statusSweeps(store, named: sweep) {
        let records = try store.runs(sweep: id)
        let p = SweepProgress(records.map(RunProgress.init), now: now, window: window)
        let states = RunStatus.allCases.map { "\($0.rawValue) \(p.byStatus[$0] ?? 0)" }.joined(separator: ", ")
        lines.append("sweep \(name): \(p.total) runs (\(states))")
        lines.append(String(format: "  FLOPs %@ of %@ (%.1f%%)", formatFLOPs(p.doneFLOPs), formatFLOPs(p.totalFLOPs),
                            100 * p.doneFLOPs / max(p.totalFLOPs, 1)))
        let rate = p.recentFLOPsPerSecond.map { String(format: "%.3g FLOP/s over the last %@", $0, formatDuration(p.windowSeconds)) }
            ?? "no work in the last \(formatDuration(window))"
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
        if listRuns { lines += records.map(statusRunLine) }
    }
    return lines
}

/// One run of `sweep status --runs`: id, key, state, step, latest loss, rate, and where a
/// shared run's result is read from.
public func statusRunLine(_ r: RunRecord) -> String {
    let loss = r.finalEvalLoss ?? r.finalTrainLoss ?? r.lastLoss
    return String(format: "  %4d ", Int(r.id)) + pad(r.plan.key, -34) + " " + pad(r.status.rawValue, -8)
        + String(format: " step %6d/%-6d loss ", r.step, r.plan.steps)
        + (loss.map { String(format: "%.4f", $0) } ?? "-")
        + (r.tokensPerSecond.map { String(format: "  %.0f tok/s", $0) } ?? "")
        + (r.sharedFrom.map { "  read from \($0)" } ?? "")
}
