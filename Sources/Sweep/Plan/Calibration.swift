// The time estimate's throughput, measured: a few training steps of every shape a plan uses,
// on this machine, cached per CPU so that later plans start at once.
import Foundation
import Model

public enum Calibration {
    /// Share of its single-process rate that each of two workers keeps while both train
    /// (scripts/bench.sh measures it; evaluations are counted separately).
    public static let workerShare = 0.9
    /// FLOP rate per worker when nothing was measured and the config gives none.
    public static let fallbackFLOPsPerSecond = 5.7e10

    /// `$XDG_CACHE_HOME/isoflop/throughput.json`, or under `~/.cache`.
    public static var defaultCacheFile: String {
        let env = ProcessInfo.processInfo.environment
        let base = env["XDG_CACHE_HOME"] ?? (NSHomeDirectory() + "/.cache")
        return base + "/isoflop/throughput.json"
    }

    /// Rates per worker for every shape of `runs`: read from the cache for this machine, the
    /// missing ones measured (about 6 steps each, per CPU second so other load does not count)
    /// and added to it. A cache that cannot be read or written is only a slower start.
    public static func throughput(for runs: [PlannedRun], cache: String?) -> ThroughputModel {
        let machine = Benchmark.machine
        var all: [String: [CachedRate]] = [:]
        if let cache, let data = FileManager.default.contents(atPath: cache) {
            all = (try? JSONDecoder().decode([String: [CachedRate]].self, from: data)) ?? [:]
        }
        var rates = Dictionary((all[machine] ?? []).map { ($0.shape, $0.tokensPerSecond) }, uniquingKeysWith: { a, _ in a })
        var changed = false
        for shape in Set(runs.map { MeasuredShape(model: $0.model, batch: $0.batchSize) }) where rates[shape] == nil {
            guard let r = try? Benchmark.training(config: shape.model, batchSize: shape.batch, steps: 4, warmup: 2) else { continue }
            rates[shape] = r.tokensPerCPUSecond * workerShare
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

    struct CachedRate: Codable {
        var shape: MeasuredShape
        var tokensPerSecond: Double
    }
}
