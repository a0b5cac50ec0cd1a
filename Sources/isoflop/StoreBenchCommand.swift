// `isoflop bench-store`: what a run store costs a sweep, for comparing SQLite and PostgreSQL.
import ArgumentParser
import Foundation
import Sweep

struct StoreBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-store",
        abstract: "Measure a run store: claim latency, metric logging cost per step, runs claimed per second by concurrent workers.")

    @Option(help: "Run store URL: a path, sqlite:PATH or postgresql://user@host:port/db. Benchmark sweeps are added to it.")
    var store: String
    @Option(help: "Claims timed one by one.") var claims = 200
    @Option(name: .customLong("metric-batch"), help: "Metric rows per write (one row per training step).")
    var metricBatch = 200
    @Option(name: .customLong("metric-batches"), help: "Metric writes timed.") var metricBatches = 20
    @Option(name: .customLong("step-ms"), help: "A typical training step in milliseconds, to express logging as a fraction of it.")
    var stepMilliseconds = 2.0
    @Option(help: "Concurrent workers, each with its own connection.") var workers = 16
    @Option(help: "Runs in the sweep the concurrent workers empty.") var runs = 2000

    func validate() throws {
        for (flag, value) in [("--claims", claims), ("--metric-batch", metricBatch), ("--metric-batches", metricBatches),
                              ("--workers", workers), ("--runs", runs)] where value < 1 {
            throw ValidationError("\(flag) must be at least 1")
        }
        guard stepMilliseconds > 0 else { throw ValidationError("--step-ms must be positive") }
    }

    func run() throws {
        var options = StoreBenchmarkOptions()
        options.claims = claims
        options.metricBatch = metricBatch
        options.metricBatches = metricBatches
        options.stepSeconds = stepMilliseconds / 1000
        options.workers = workers
        options.sweepRuns = runs
        try benchmarkStore(url: store, options: options).lines(store: store, options: options).forEach { print($0) }
    }
}
