// What a study refuses or fails on, each case with the value and where it came from; the tool
// prints the description as one line.
import Foundation
import Sweep
import Tensor

public enum StudyError: Error, CustomStringConvertible, Equatable {
    /// A command that reads or resumes a store was given a path where none is.
    case noStore(path: String)
    case emptyCheckpointFlag
    /// A server store keeps no checkpoints beside it: the flag is required.
    case checkpointsRequired(scheme: String)
    /// The checkpoint folder records another store's id.
    case foreignCheckpoints(folder: String, owner: String, store: String)
    /// The plan of a sweep has no runs (every budget below one step of every shape, say): it is
    /// refused before anything is stored.
    case emptyPlan(sweep: String, warnings: [String])
    case badRun(key: String, message: String)
    case tokenizerMissing(path: String)
    case vocabMismatch(tokenizer: String, found: Int, expected: Int)
    case dataMissing(expected: String, built: String)
    /// Workers started elsewhere only train what is planned; an adaptive grid needs the driver.
    case adaptiveNeedsDriver(file: String)
    case noFinishedRuns(source: String, sweep: String, schedule: String?)
    case workerCount(flag: String, value: Int, limit: Int, cpus: Int)
    case workersFailed(count: Int)
    case runsFailed(count: Int)
    case unwritable(path: String)
    /// A stage of a longer job (a child of this program) exited with `status`.
    case stageFailed(arguments: [String], status: Int32)
    /// A cycle of the horizon experiment ended otherwise than finished.
    case horizonCycle(multiple: Double, end: String)
    /// Asked to stop (SIGINT/SIGTERM): what ran was handed back and resumes on the next run.
    case stopped
    case sweepChoice(names: [String])
    /// `predict` trains a schedule whose rate follows each run's own length; the fixed cycle does not.
    case unpredictableSchedule(String)
    case noForecast(budget: Double)
    /// A CSV of runs has none of the schedule asked for.
    case noCSVRuns(path: String, schedule: String, found: [String])
    /// A pilot's rule fits its shapes too poorly to be written without `--force`.
    case poorRule(file: String, reason: String)
    /// A benchmark's worker process printed no "tokens/s" line.
    case noRate(output: String)

    public var description: String {
        switch self {
        case let .noStore(path): return "no run store at \(path)"
        case .emptyCheckpointFlag: return "--checkpoints must name a folder, not an empty string"
        case let .checkpointsRequired(scheme):
            return "--checkpoints DIR is required with a \(scheme) store: a folder every worker's machine sees"
        case let .foreignCheckpoints(folder, owner, store):
            return "checkpoint folder \(folder) holds the checkpoints of another run store (id \(owner)), not of \(redactedStoreURL(store)); "
                + "give this store its own --checkpoints folder"
        case let .emptyPlan(sweep, warnings):
            let why = warnings.isEmpty ? "" : " (" + warnings.prefix(3).joined(separator: "; ")
                + (warnings.count > 3 ? "; and \(warnings.count - 3) more" : "") + ")"
            return "sweep \(sweep): the plan has no runs\(why); nothing was stored"
        case let .badRun(key, message): return "run \(key): \(message)"
        case let .tokenizerMissing(path): return "tokenizer \(path) (the config's 'tokenizer') does not exist"
        case let .vocabMismatch(tokenizer, found, expected):
            return "tokenizer \(tokenizer) has \(found) tokens, the sweep's vocab is \(expected)"
        case let .dataMissing(expected, built):
            return "\(expected) is missing and the corpus build wrote \(built) instead; point the config at it"
        case let .adaptiveNeedsDriver(file):
            return "\(file): grid.adaptive = true plans budgets as earlier ones finish, which only `sweep run` "
                + "(or `reproduce`) does; set it to false for workers started elsewhere"
        case let .noFinishedRuns(source, sweep, schedule):
            return "\(redactedStoreURL(source)) (sweep \(sweep)): no finished runs" + (schedule.map { " with schedule '\($0)'" } ?? "")
        case let .workerCount(flag, value, limit, cpus):
            return "\(flag) \(value) must be in 1...\(limit) (4 × this machine's \(cpus) CPUs)"
        case let .workersFailed(count): return "\(count) worker(s) exited with an error; rerun to resume"
        case let .runsFailed(count): return "\(count) run(s) failed; fix the cause and rerun with --retry-failed"
        case let .unwritable(path): return "cannot write \(path)"
        case let .stageFailed(arguments, status): return "isoflop \(arguments.prefix(2).joined(separator: " ")) exited with status \(status)"
        case let .horizonCycle(multiple, end): return "the \(multiple)× cycle did not finish: \(end)"
        case .stopped: return "stopped; rerun the same command to resume"
        case let .sweepChoice(names):
            return "the store holds \(names.count) sweeps (\(names.joined(separator: ", "))); name one with --sweep"
        case let .unpredictableSchedule(schedule):
            return "predict trains a schedule whose learning rate follows each run's own length (matched, wsd or constant), not '\(schedule)'"
        case let .noForecast(budget): return "no approach could forecast at \(formatFLOPs(budget))"
        case let .noCSVRuns(path, schedule, found):
            return "\(path): no runs with schedule '\(schedule)' (the file has \(found.joined(separator: ", "))); choose one with --schedule"
        case let .noRate(output): return "worker printed no rate: \(output)"
        case let .poorRule(file, reason):
            return "\(file): not written: \(reason); --write --force writes it anyway (the pilot's runs are kept)"
        }
    }
}
