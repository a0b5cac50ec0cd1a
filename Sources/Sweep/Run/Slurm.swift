// The sbatch script of a sweep or a ladder on a Slurm cluster: a job array whose every task runs
// `isoflop worker` (a sweep) or `isoflop ladder` (a ladder: every task walks the rungs, its
// workers training beside the other tasks' and waiting for each rung's last run) on one node;
// the store (PostgreSQL) coordinates them, Slurm only schedules.
import Foundation

public enum SlurmError: Error, CustomStringConvertible, Equatable {
    case badTime(String)
    case badCount(name: String, value: Int)
    case badName(name: String, value: String)
    case badPath(name: String, value: String)

    public var description: String {
        switch self {
        case let .badTime(t): return "time limit '\(t)' is not [D-]HH:MM:SS"
        case let .badCount(name, value): return "\(name) must be at least 1, not \(value)"
        case let .badName(name, value): return "\(name) '\(value)' may hold only letters, digits and . _ -"
        case let .badPath(name, value): return "\(name) '\(value)' must be an absolute path without spaces (#SBATCH lines cannot quote)"
        }
    }
}

/// What every task of a ladder's job runs: `isoflop ladder` on this config, writing there.
public struct SlurmLadder: Equatable, Sendable {
    /// The ladder config, absolute.
    public var config: String
    /// The ladder's output folder (ladder.json, figures, page), absolute.
    public var out: String

    public init(config: String, out: String) {
        self.config = config
        self.out = out
    }
}

/// Everything the job-array script says. Paths should be absolute: tasks start on other nodes.
public struct SlurmJob: Equatable, Sendable {
    /// The sweep's name, or the ladder's.
    public var sweep: String
    /// Set for a ladder: each task runs the ladder instead of a worker of one sweep.
    public var ladder: SlurmLadder?
    /// Array tasks, one per node.
    public var nodes: Int
    /// Worker processes per task (one CPU each).
    public var processesPerNode: Int
    /// Wall-clock limit per task, `[D-]HH:MM:SS`.
    public var time: String
    public var partition: String?
    /// The isoflop binary every task runs; on a filesystem all nodes see.
    public var executable: String
    /// Where tasks start, so that the config's relative token paths resolve.
    public var workingDirectory: String
    public var store: String
    public var checkpoints: String
    /// Folder of the tasks' logs (`<job name>-<array job>_<task>.out`); must exist before sbatch.
    public var logDirectory: String
    public var lease: Double

    public init(sweep: String, nodes: Int, processesPerNode: Int, time: String, partition: String? = nil,
                executable: String, workingDirectory: String, store: String, checkpoints: String,
                logDirectory: String, lease: Double = 120, ladder: SlurmLadder? = nil) {
        self.sweep = sweep
        self.ladder = ladder
        self.nodes = nodes
        self.processesPerNode = processesPerNode
        self.time = time
        self.partition = partition
        self.executable = executable
        self.workingDirectory = workingDirectory
        self.store = store
        self.checkpoints = checkpoints
        self.logDirectory = logDirectory
        self.lease = lease
    }

    public var jobName: String { ladder == nil ? "isoflop-\(sweep)" : "isoflop-ladder-\(sweep)" }

    /// Checks what Slurm would otherwise reject only at submission, or misread.
    public func validate() throws {
        guard nodes >= 1 else { throw SlurmError.badCount(name: "nodes", value: nodes) }
        guard processesPerNode >= 1 else { throw SlurmError.badCount(name: "processes per node", value: processesPerNode) }
        guard Self.isTime(time) else { throw SlurmError.badTime(time) }
        let safe = { (s: String) in !s.isEmpty && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) } }
        guard safe(sweep), (try? SweepConfig.checkName(sweep)) != nil else { throw SlurmError.badName(name: "sweep name", value: sweep) }
        if let partition, !safe(partition) { throw SlurmError.badName(name: "partition", value: partition) }
        for (name, path) in [("working directory", workingDirectory), ("log directory", logDirectory)]
        where !path.hasPrefix("/") || path.contains(where: \.isWhitespace) {
            throw SlurmError.badPath(name: name, value: path)
        }
    }

    /// `HH:MM:SS` or `D-HH:MM:SS`, minutes and seconds below 60.
    static func isTime(_ t: String) -> Bool {
        var rest = Substring(t)
        if let dash = rest.firstIndex(of: "-") {
            guard Int(rest[..<dash]) != nil else { return false }
            rest = rest[rest.index(after: dash)...]
        }
        let parts = rest.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }),
              let m = Int(parts[1]), let s = Int(parts[2]) else { return false }
        return parts[1].count == 2 && parts[2].count == 2 && m < 60 && s < 60
    }

    /// The sbatch script. Each array task runs one `isoflop worker` with P processes; all of
    /// them claim from the same store until no run is left. A store URL with a password reaches
    /// the task through the environment (`ISOFLOP_STORE`), not its command line, where every
    /// user of the node would read it.
    public func script() -> String {
        let what = ladder == nil ? "IsoFLOP sweep '\(sweep)'" : "isoflop ladder '\(sweep)' (its rungs one after another)"
        let secret = redactedStoreURL(store) != store
        let storeFlag = secret ? "" : "--store \(shellQuote(store)) "
        var lines = [
            "#!/bin/bash",
            "# \(what): \(nodes) array task(s), each \(processesPerNode) worker process(es) on one node.",
            "# Submit with: sbatch <this file>. Progress: \(shellQuote(executable)) sweep status --store \(shellQuote(redactedStoreURL(store)))",
            "#SBATCH --job-name=\(jobName)",
            "#SBATCH --array=0-\(nodes - 1)",
            "#SBATCH --nodes=1",
            "#SBATCH --ntasks=1",
            "#SBATCH --cpus-per-task=\(processesPerNode)",
            "#SBATCH --time=\(time)",
        ]
        if let partition { lines.append("#SBATCH --partition=\(partition)") }
        lines += [
            "#SBATCH --chdir=\(workingDirectory)",
            "#SBATCH --output=\(logDirectory)/%x-%A_%a.out",
            "",
            "set -euo pipefail",
            "cd \(shellQuote(workingDirectory))",
            "# One BLAS thread per worker process: the task's CPUs go to processes, not threads.",
            "export OPENBLAS_NUM_THREADS=1",
        ]
        if secret {
            lines += ["# The store's URL holds a password: the tasks read it from the environment, not their command line.",
                      "export ISOFLOP_STORE=\(shellQuote(store))"]
        }
        if let ladder {
            lines += [
                "# Every task runs the whole ladder: per rung, its workers claim runs beside the other tasks',",
                "# then it waits for the rung's last run (--wait-for-others), fits the rung and goes on.",
                "exec \(shellQuote(executable)) ladder --config \(shellQuote(ladder.config)) \(storeFlag)\\",
                "    --checkpoints \(shellQuote(checkpoints)) --workers \(processesPerNode) --out \(shellQuote(ladder.out)) \\",
                "    --lease \(formatSeconds(lease)) --wait-for-others",
                "",
            ]
        } else {
            lines += [
                "exec \(shellQuote(executable)) worker \(storeFlag)--checkpoints \(shellQuote(checkpoints)) \\",
                "    --processes \(processesPerNode) --sweep \(shellQuote(sweep)) --lease \(formatSeconds(lease))",
                "",
            ]
        }
        return lines.joined(separator: "\n")
    }
}

/// Quotes a word for a POSIX shell when it needs it.
public func shellQuote(_ word: String) -> String {
    let plain = !word.isEmpty && word.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "/._-:=@+,%".contains($0)) }
    return plain ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

private func formatSeconds(_ s: Double) -> String {
    s == s.rounded() ? "\(Int(s))" : "\(s)"
}
