// The report that fills in while a sweep runs: `sweep run --report DIR` rewrites the page (as a
// child `isoflop report`, so a slow fit never holds up the workers' supervision) when a budget's
// runs have all ended, and every few minutes while other runs end.
import Foundation
import Sweep

final class LiveReport {
    /// `isoflop report` without `--refresh`; its store goes in the environment.
    let command: ChildCommand
    /// Least time between two rewrites that no budget's completion asked for.
    let interval: TimeInterval
    /// The reload period written into the page while runs are still to come.
    let refreshSeconds: Int
    private var completeBudgets: Set<Double> = []
    private var endedRuns = -1
    private var lastStart = Date.distantPast
    private var child: Process?
    /// A rewrite was due while one was still being written: start it when that one exits.
    private var owed = false

    init(store: String, sweep: String, out: String, bootstrap: Int = 100, executable: URL? = nil,
         interval: TimeInterval = 180, refreshSeconds: Int = 60) {
        var args = ["report", "--sweep", sweep, "--out", out, "--bootstrap", "\(bootstrap)"]
        let horizon = (out as NSString).appendingPathComponent("horizon.csv")
        if FileManager.default.fileExists(atPath: horizon) { args += ["--horizon", horizon] }
        command = ChildCommand(args, store: store, executable: executable)
        self.interval = interval
        self.refreshSeconds = refreshSeconds
    }

    /// Called with the sweep's budgets on every tick of the supervisor.
    func update(_ budgets: [BudgetProgress]) throws {
        let complete = Set(budgets.filter(\.isComplete).map(\.budget))
        let ended = budgets.reduce(0) { $0 + $1.ended }
        let newBudget = !complete.subtracting(completeBudgets).isEmpty
        let timely = ended != endedRuns && Date().timeIntervalSince(lastStart) >= interval
        if newBudget || timely || endedRuns < 0 { owed = true }
        completeBudgets = complete
        if child?.isRunning == true || !owed { return }
        endedRuns = ended
        try start(refresh: true)
    }

    /// After the workers exit: the last page, written before returning. It reloads itself only
    /// when runs are left to other workers still running.
    func finish(othersRunning: Bool) throws {
        child?.waitUntilExit()
        try start(refresh: othersRunning)
        child?.waitUntilExit()
    }

    private func start(refresh: Bool) throws {
        var command = self.command
        if refresh { command.arguments += ["--refresh", "\(refreshSeconds)"] }
        let p = command.process()
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        child = p
        owed = false
        lastStart = Date()
    }
}
