// The options every store-reading command shares: `--store URL` (with `--db` kept as a hidden
// alias, and the ISOFLOP_STORE environment variable behind both), `--sweep`, `--bootstrap` and
// `--seed`, and the lease check.
import ArgumentParser
import Foundation
import Study
import Sweep

/// `--store URL`, or the older `--db`; commands that took the store as a positional argument
/// still accept it there. Without any of them, the ISOFLOP_STORE environment variable: the way
/// the tool hands a store to its own child processes, and a way to keep a password out of `ps`.
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("store"),
            help: ArgumentHelp("Run store: sqlite:PATH, a plain path, or postgresql://user@host:port/db (default: $ISOFLOP_STORE, where set).",
                               valueName: "url"))
    var url: String?

    @Option(name: .customLong("db"), help: .hidden) var db: String?

    /// The store named by `--store`, `--db` or the positional argument (else by ISOFLOP_STORE),
    /// or nil when none is.
    func resolved(positional: String? = nil) throws -> String? {
        let given = [url, db, positional].compactMap { $0 }
        guard let first = given.first else {
            return ProcessInfo.processInfo.environment[storeEnvironmentVariable].flatMap { $0.isEmpty ? nil : $0 }
        }
        if given.contains(where: { $0 != first }) {
            throw ValidationError("two different stores given (\(given.map(redactedStoreURL).joined(separator: ", "))); name one with --store")
        }
        return first
    }

    /// Like `resolved`, but a store is required.
    func required(positional: String? = nil) throws -> String {
        guard let url = try resolved(positional: positional) else { throw ValidationError("name the run store with --store URL") }
        return url
    }
}

/// `--sweep NAME`: which sweep of the store to read. Without it the store must hold exactly one.
struct SweepChoice: ParsableArguments {
    @Option(help: "The sweep to read (default: the only one in the store; with several, name one).")
    var sweep: String?
}

/// The sweep a results command reads: the store, as the positional argument or `--store`, and
/// `--sweep`.
struct ResultsSource: ParsableArguments {
    @Argument(help: ArgumentHelp("The sweep store (same as --store).", valueName: "store"))
    var storeArgument: String?

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var sweepChoice: SweepChoice

    /// The store's URL; one must be named.
    func url() throws -> String { try storeOptions.required(positional: storeArgument) }
}

/// `--bootstrap N` and `--seed S` of the commands that fit; `Default` gives the command's own
/// number of resamples (fitting alone defaults to none, the report and comparison to 200).
struct BootstrapOptions<Default: BootstrapDefault>: ParsableArguments {
    @Option(help: "Bootstrap resamples for the intervals (0: point estimates only).")
    var bootstrap: Int = Default.resamples

    @Option(help: "Seed of the bootstrap resamples.")
    var seed: UInt64 = 0

    func validate() throws {
        guard (0...1_000_000).contains(bootstrap) else { throw ValidationError("--bootstrap must be in 0...1000000, not \(bootstrap)") }
    }
}

protocol BootstrapDefault { static var resamples: Int { get } }
enum NoResamples: BootstrapDefault { static let resamples = 0 }
enum ReportResamples: BootstrapDefault { static let resamples = 200 }

/// A lease must be positive and finite: a worker renews it every third of its length.
func checkLease(_ lease: Double) throws {
    guard lease.isFinite, lease >= 1, lease <= 86_400 else {
        throw ValidationError("--lease \(lease) must be a number of seconds in 1...86400")
    }
}

/// The `--workers` (or `--processes`) check, as a flag error with the usage.
func checkWorkerCount(_ n: Int, flag: String) throws {
    do { try Study.checkWorkerCount(n, flag: flag) } catch let e as StudyError { throw ValidationError(e.description) }
}
