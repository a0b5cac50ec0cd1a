// The processes a study starts on this machine: worker processes of this same program, and
// stages (a report rewritten beside the workers, reproduce's steps). A child gets its store
// through the environment, never on its command line, where every user of the machine reads it
// (`ps`), password and all. Stop requests (SIGINT/SIGTERM) are polled, not acted on in the handler.
import Foundation
import Sweep
import Tensor
#if canImport(Glibc)
import Glibc
#endif

/// Set by SIGINT/SIGTERM once `installStopHandler` has run.
private var stopSignals: sig_atomic_t = 0

/// Whether this process was asked to stop.
public var stopRequested: Bool { stopSignals > 0 }

/// Counts SIGINT and SIGTERM instead of dying of them, so that workers checkpoint and supervisors
/// pass the request on.
public func installStopHandler() {
    signal(SIGINT) { _ in stopSignals += 1 }
    signal(SIGTERM) { _ in stopSignals += 1 }
}

/// Whether a process exists and is not a zombie (a killed worker nobody has reaped yet).
public func processIsAlive(_ pid: Int) -> Bool {
    guard kill(pid_t(pid), 0) == 0 || errno == EPERM else { return false }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return true }
    return !stat[stat.index(after: close)...].hasPrefix(" Z")
}

/// Worker processes one machine may start: enough to oversubscribe its cores, never enough
/// to exhaust its process table.
public var maxLocalWorkers: Int { 4 * ProcessInfo.processInfo.activeProcessorCount }

public func checkWorkerCount(_ n: Int, flag: String) throws {
    guard n >= 1, n <= maxLocalWorkers else {
        throw StudyError.workerCount(flag: flag, value: n, limit: maxLocalWorkers, cpus: ProcessInfo.processInfo.activeProcessorCount)
    }
}

/// The environment variable that carries a child's store URL (the tool reads it where no
/// `--store` is given).
public let storeEnvironmentVariable = "ISOFLOP_STORE"

/// A process of this same program (or of `executable`), its store passed in the environment.
public struct ChildCommand: Sendable {
    public var arguments: [String]
    public var store: String?
    /// The program to start; nil: the one running now.
    public var executable: URL?

    public init(_ arguments: [String], store: String? = nil, executable: URL? = nil) {
        self.arguments = arguments
        self.store = store
        self.executable = executable
    }

    /// This process's environment, with the store.
    public var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env[storeEnvironmentVariable] = store
        return env
    }

    /// The process, ready to start.
    public func process() -> Process {
        let p = Process()
        p.executableURL = executable ?? URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        p.arguments = arguments
        p.environment = environment
        return p
    }

    /// Runs the command to its end as one stage of a longer job (its output goes where this
    /// process's goes); a stage that fails ends the job with its status.
    public func runStage() throws {
        // What this process printed so far goes before the stage's output in a log file too.
        fflush(stdout)
        let p = process()
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw StudyError.stageFailed(arguments: arguments, status: p.terminationStatus) }
    }
}

/// How to start the hidden per-process `sweep worker` entry point.
public struct WorkerLaunch: Sendable {
    public var store: String
    public var checkpoints: String
    public var sweep: String?
    public var lease: Double
    /// Keep polling while other workers hold runs, to take over those whose lease runs out.
    public var waitForLeases = false
    /// Each worker prints what it did and its logging share to standard error.
    public var report = false
    /// Dry run: speedup over the throughput model, and the model's two constants.
    public var dryRun: (speedup: Double, flopsPerSecond: Double, overheadPerToken: Double)?
    public var executable: URL?

    public init(store: String, checkpoints: String, sweep: String?, lease: Double) {
        self.store = store
        self.checkpoints = checkpoints
        self.sweep = sweep
        self.lease = lease
    }

    /// The worker's command line: everything but the store.
    public var arguments: [String] {
        var args = ["sweep", "worker", "--checkpoints", checkpoints, "--lease", "\(lease)", "--parent", "\(getpid())"]
        if let sweep { args += ["--sweep", sweep] }
        if waitForLeases { args.append("--wait") }
        if report { args.append("--report") }
        if let dryRun {
            args += ["--dry-run", "\(dryRun.speedup)", "--flops-per-second", "\(dryRun.flopsPerSecond)",
                     "--overhead-per-token", "\(dryRun.overheadPerToken)"]
        }
        return args
    }

    public var command: ChildCommand { ChildCommand(arguments, store: store, executable: executable) }

    /// Starts `count` worker processes, each with one BLAS thread.
    public func spawn(_ count: Int) throws -> [Process] {
        var children: [Process] = []
        for _ in 0..<count {
            // A stop request while starting many workers stops the starting too.
            if stopRequested { break }
            let p = command.process()
            p.environment?["OPENBLAS_NUM_THREADS"] = "1"
            try p.run()
            children.append(p)
        }
        return children
    }
}

/// Waits for the workers, calling `tick` every half second and passing a stop request
/// (SIGINT/SIGTERM of this process alone) on to them. Returns how many exited non-zero.
public func superviseWorkers(_ children: [Process], tick: () throws -> Void) rethrows -> Int {
    var forwarded = false
    while children.contains(where: { $0.isRunning }) {
        if stopRequested && !forwarded {
            // The terminal already signalled the whole group; this covers a kill of the parent alone.
            for c in children where c.isRunning { kill(c.processIdentifier, SIGINT) }
            forwarded = true
        }
        try tick()
        Thread.sleep(forTimeInterval: 0.5)
    }
    return children.filter { $0.terminationStatus != 0 }.count
}

/// `isoflop worker`: `processes` worker processes on this machine claim and train the planned
/// runs of the store at `url` (of `sweep` only, when named) until none is left, taking over runs
/// whose lease runs out; runs held by workers of this machine that died are released first.
/// Says what it did through `say`; returns how many worker processes exited with an error.
public func runWorkers(store url: String, checkpoints: String?, processes: Int, sweep: String?, lease: Double,
                      say: (String) -> Void) throws -> Int {
    let checkpoints = try Checkpoints.folder(checkpoints, store: url)
    let store = try openExistingStore(url, forWriting: true)
    try Checkpoints.mark(checkpoints, store: store)
    if let sweep, try store.sweepID(named: sweep) == nil { throw StoreError.unknownSweep(sweep) }
    let host = ProcessInfo.processInfo.hostName
    let released = try store.releaseDeadRuns(host: host, isAlive: processIsAlive)
    if released > 0 { say("released \(released) run(s) of dead workers on \(host)") }

    installStopHandler()
    var launch = WorkerLaunch(store: url, checkpoints: checkpoints, sweep: sweep, lease: lease)
    launch.waitForLeases = true
    launch.report = true
    let began = Date()
    let failed = superviseWorkers(try launch.spawn(processes)) {}
    say("\(host): \(processes) worker process(es) finished in \(formatDuration(Date().timeIntervalSince(began)))")
    return failed
}

/// Runs `count` copies of this program with `arguments` side by side, each of which must print a
/// line "tokens/s RATE" (`bench --worker`), and returns each one's rate.
public func sideBySideRates(_ arguments: [String], count: Int = 2) throws -> [Double] {
    let exe = URL(fileURLWithPath: CommandLine.arguments[0])
    let procs = (0..<count).map { _ -> (Process, Pipe) in
        let p = Process(), pipe = Pipe()
        p.executableURL = exe
        p.arguments = arguments
        p.standardOutput = pipe
        return (p, pipe)
    }
    for (p, _) in procs { try p.run() }
    return try procs.map { p, pipe in
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard let line = out.split(separator: "\n").first(where: { $0.hasPrefix("tokens/s ") }),
              let v = Double(line.dropFirst(9)) else { throw StudyError.noRate(output: out) }
        return v
    }
}
