// How much a run store costs a sweep: claim latency, the cost of logging a step's metrics
// (as a fraction of a training step), and how many runs concurrent workers claim per second.
// The same figures for any store URL, so SQLite and PostgreSQL compare directly.
import Foundation

public struct StoreBenchmarkOptions: Sendable {
    /// Claims timed one by one from a single connection.
    public var claims = 200
    /// Rows per appendMetrics call (the workers' default batch) and how many batches are timed.
    public var metricBatch = 200
    public var metricBatches = 20
    /// A typical training step, for expressing the logging cost as a fraction of it.
    public var stepSeconds = 0.002
    /// Concurrent workers, each with its own connection, and the runs of the sweep they empty.
    public var workers = 16
    public var sweepRuns = 2000

    public init() {}
}

public struct StoreBenchmarkResult: Sendable {
    public var claimMedianSeconds: Double
    public var claimP95Seconds: Double
    /// Median time of one appendMetrics batch, and that divided by its rows (one row per step).
    public var metricBatchSeconds: Double
    public var metricSecondsPerStep: Double
    /// `metricSecondsPerStep` over the options' step time.
    public var metricFractionOfStep: Double
    public var concurrentRuns: Int
    public var concurrentSeconds: Double
    public var runsClaimedPerSecond: Double
    /// Runs handed out more than once during the concurrent phase (must be 0).
    public var doubleClaims: Int

    /// The three measurements for people, under the store's URL (its password hidden), with the
    /// `options` they were taken with.
    public func lines(store url: String, options o: StoreBenchmarkOptions) -> [String] {
        ["store \(redactedStoreURL(url))",
         String(format: "  claim latency: median %.3f ms, p95 %.3f ms (%d claims, one connection)",
                claimMedianSeconds * 1e3, claimP95Seconds * 1e3, o.claims),
         String(format: "  metric logging: %.2f ms per %d-row batch = %.1f µs per step = %.2f%% of a %.1f ms step",
                metricBatchSeconds * 1e3, o.metricBatch, metricSecondsPerStep * 1e6, metricFractionOfStep * 100, o.stepSeconds * 1000),
         String(format: "  %d workers claimed %d runs in %.2f s: %.0f runs/s (%d claimed twice)",
                o.workers, concurrentRuns, concurrentSeconds, runsClaimedPerSecond, doubleClaims)]
    }
}

/// Runs the three measurements on the store at `url`, in sweeps of their own (named
/// `bench-…-<random>`) so an existing store is not disturbed beyond those rows.
public func benchmarkStore(url: String, options: StoreBenchmarkOptions = StoreBenchmarkOptions()) throws -> StoreBenchmarkResult {
    let store = try openRunStore(url)
    let tag = UUID().uuidString.prefix(8).lowercased()
    let host = ProcessInfo.processInfo.hostName
    let pid = Int(ProcessInfo.processInfo.processIdentifier)

    // Claim latency: one connection claims every run of a sweep one after another.
    let claimSweep = try store.createSweep(name: "bench-claims-\(tag)", configJSON: "{}",
                                           runs: try benchmarkRuns(options.claims))
    var claimSeconds: [Double] = []
    claimSeconds.reserveCapacity(options.claims)
    while true {
        let start = DispatchTime.now().uptimeNanoseconds
        guard try store.claimNextRun(sweep: claimSweep, worker: "bench", host: host, pid: pid, lease: 600) != nil else { break }
        claimSeconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    // Metric logging: batches of consecutive steps into one run, as a worker's sink writes them.
    let metricSweep = try store.createSweep(name: "bench-metrics-\(tag)", configJSON: "{}", runs: try benchmarkRuns(1))
    guard let run = try store.claimNextRun(sweep: metricSweep, worker: "bench", host: host, pid: pid, lease: 600) else {
        throw StoreError.unknownSweep("bench-metrics-\(tag)")
    }
    var batchSeconds: [Double] = []
    for b in 0..<options.metricBatches {
        let rows = (0..<options.metricBatch).map { i -> MetricRow in
            let step = b * options.metricBatch + i + 1
            return MetricRow(run: run.id, step: step, tokens: step * 1024, flops: Double(step) * 2.4e9, lr: 1e-3,
                             trainLoss: 4 - Double(step) * 1e-4, evalLoss: step % 100 == 0 ? 4.1 : nil)
        }
        let start = DispatchTime.now().uptimeNanoseconds
        try store.appendMetrics(rows)
        batchSeconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    // Throughput: workers on their own connections empty one sweep together.
    let bigSweep = try store.createSweep(name: "bench-workers-\(tag)", configJSON: "{}",
                                         runs: try benchmarkRuns(options.sweepRuns))
    final class Claimed: @unchecked Sendable {
        let lock = NSLock()
        var ids: [Int64] = []
        var error: Error?
    }
    let claimed = Claimed()
    let connections = try (0..<options.workers).map { _ in try openRunStore(url) }
    let start = DispatchTime.now().uptimeNanoseconds
    DispatchQueue.concurrentPerform(iterations: options.workers) { k in
        var mine: [Int64] = []
        do {
            while let r = try connections[k].claimNextRun(sweep: bigSweep, worker: "bench-\(k)", host: host, pid: pid, lease: 600) {
                mine.append(r.id)
            }
        } catch {
            claimed.lock.lock(); claimed.error = error; claimed.lock.unlock()
        }
        claimed.lock.lock(); claimed.ids += mine; claimed.lock.unlock()
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    if let error = claimed.error { throw error }

    let batch = median(batchSeconds)
    let perStep = batch / Double(options.metricBatch)
    return StoreBenchmarkResult(
        claimMedianSeconds: median(claimSeconds), claimP95Seconds: percentile(claimSeconds, 0.95),
        metricBatchSeconds: batch, metricSecondsPerStep: perStep, metricFractionOfStep: perStep / options.stepSeconds,
        concurrentRuns: claimed.ids.count, concurrentSeconds: seconds,
        runsClaimedPerSecond: Double(claimed.ids.count) / seconds,
        doubleClaims: claimed.ids.count - Set(claimed.ids).count)
}

/// `count` distinct tiny runs (one shape copied under different keys and sizes).
func benchmarkRuns(_ count: Int) throws -> [PlannedRun] {
    var config = SweepConfig(name: "bench", corpus: "none", trainTokens: "none", evalTokens: "none", tokenizer: "none",
                             vocab: 512, budgets: [1e10], family: FamilyConfig(widths: [32]), batch: 8)
    config.grid = GridConfig(sizes: 1, width: 1000)
    let base = try Planner.plan(config).runs[0]
    return (0..<count).map { i in
        var r = base
        r.key = "\(base.key) #\(i)"
        r.flops = base.flops * (1 + Double(i) / Double(count))
        return r
    }
}

func median(_ xs: [Double]) -> Double { percentile(xs, 0.5) }

/// The `q` quantile by the nearest-rank rule; NaN for no values.
func percentile(_ xs: [Double], _ q: Double) -> Double {
    guard !xs.isEmpty else { return .nan }
    let sorted = xs.sorted()
    let rank = Int((q * Double(sorted.count)).rounded(.up))
    return sorted[min(max(rank, 1), sorted.count) - 1]
}
