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
        let r = try benchmarkStore(url: store, options: options)
        print("store \(redactedStoreURL(store))")
        print(String(format: "  claim latency: median %.3f ms, p95 %.3f ms (%d claims, one connection)",
                     r.claimMedianSeconds * 1e3, r.claimP95Seconds * 1e3, claims))
        print(String(format: "  metric logging: %.2f ms per %d-row batch = %.1f µs per step = %.2f%% of a %.1f ms step",
                     r.metricBatchSeconds * 1e3, metricBatch, r.metricSecondsPerStep * 1e6,
                     r.metricFractionOfStep * 100, stepMilliseconds))
        print(String(format: "  %d workers claimed %d runs in %.2f s: %.0f runs/s (%d claimed twice)",
                     workers, r.concurrentRuns, r.concurrentSeconds, r.runsClaimedPerSecond, r.doubleClaims))
    }
}
