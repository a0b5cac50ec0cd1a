// The time estimate's throughput, measured: a quarter of a second of training of every shape a
// plan uses, two at once as two workers train, on this machine, cached per CPU so that later
// plans start at once.
import Foundation
import Model

public enum Calibration {
    /// CPU seconds of timed training per shape (on each of two threads at once).
    public static let calibrationSeconds = 0.25
    /// FLOP rate per worker when nothing was measured and the config gives none.
    public static let fallbackFLOPsPerSecond = 5.7e10

    /// `$XDG_CACHE_HOME/isoflop/throughput.json`, or under `~/.cache`.
    public static var defaultCacheFile: String {
        let env = ProcessInfo.processInfo.environment
        let base = env["XDG_CACHE_HOME"] ?? (NSHomeDirectory() + "/.cache")
        return base + "/isoflop/throughput.json"
    }

    /// Rates per worker for every shape of `runs`: read from the cache for this machine, the
    /// missing ones measured and added to it. A cache that cannot be read or written is only a
    /// slower start.
    public static func throughput(for runs: [PlannedRun], cache: String?) -> ThroughputModel {
        let machine = Benchmark.machine + " | two side by side"
        var all: [String: [CachedRate]] = [:]
        if let cache, let data = FileManager.default.contents(atPath: cache) {
            all = (try? JSONDecoder().decode([String: [CachedRate]].self, from: data)) ?? [:]
        }
        var rates = Dictionary((all[machine] ?? []).map { ($0.shape, $0.tokensPerSecond) }, uniquingKeysWith: { a, _ in a })
        var changed = false
        for shape in Set(runs.map { MeasuredShape(model: $0.model, batch: $0.batchSize) }) where rates[shape] == nil {
            guard let rate = workerRate(shape) else { continue }
            rates[shape] = rate
            changed = true
        }
        if changed, let cache {
            all[machine] = rates.map { CachedRate(shape: $0.key, tokensPerSecond: $0.value) }
            try? FileManager.default.createDirectory(atPath: (cache as NSString).deletingLastPathComponent,
                                                     withIntermediateDirectories: true)
            if let data = try? JSONEncoder().encode(all) { try? data.write(to: URL(fileURLWithPath: cache), options: .atomic) }
        }
        return ThroughputModel(flopsPerSecond: fallbackFLOPsPerSecond, overheadPerToken: 0, measured: rates)
    }

    /// Tokens per CPU second of one of two workers training `shape` side by side: each of two
    /// threads trains a model of its own at once, since two processes on two cores share caches,
    /// memory bandwidth and, on a virtual machine, perhaps one physical core (a worker of the
    /// laptop sweep kept a median 0.82 of its rate alone on one AMD EPYC). Per CPU second, so
    /// other load does not count; the timed steps are sized by two probe steps to about
    /// `calibrationSeconds`, since four steps of a small shape last 20 ms and timings that short
    /// vary by ±30%.
    static func workerRate(_ shape: MeasuredShape) -> Double? {
        guard let probe = try? Benchmark.training(config: shape.model, batchSize: shape.batch, steps: 2, warmup: 1) else { return nil }
        let steps = max(4, min(1000, Int(calibrationSeconds / max(probe.cpuSeconds / 2, 1e-6))))
        let rates = UnsafeMutablePointer<Double>.allocate(capacity: 2)
        defer { rates.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            rates[i] = (try? Benchmark.training(config: shape.model, batchSize: shape.batch, steps: steps, warmup: 2,
                                                seed: UInt64(i + 1)))?.tokensPerCPUSecond ?? 0
        }
        let mean = (rates[0] + rates[1]) / 2
        return mean > 0 && rates[0] > 0 && rates[1] > 0 ? mean : nil
    }

    struct CachedRate: Codable {
        var shape: MeasuredShape
        var tokensPerSecond: Double
    }
}
