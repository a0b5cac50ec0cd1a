// Measurements for `isoflop bench`: the single-thread sgemm rate and the training throughput
// of gpt-mini shapes (forward + backward + a plain SGD update of the flat buffer).
import Foundation
import Tensor

#if canImport(Glibc)
import Glibc
#endif

public enum Benchmark {
    /// Seconds on a monotonic clock.
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// CPU seconds used by the calling thread (robust to other processes sharing the cores;
    /// with one BLAS thread all the work runs on it, while OpenBLAS's idle pool threads,
    /// which spin for a while after start-up, are left out).
    public static func cpuNow() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// What a measured rate holds for: the CPU model, OpenBLAS's kernel family and the
    /// elementwise kernel set.
    public static var machine: String {
        var model = "unknown CPU"
        if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
           let colon = line.firstIndex(of: ":") {
            model = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return "\(model) | OpenBLAS \(BLAS.coreName) | \(Kernels.active.rawValue) kernels"
    }

    /// GFLOP/s of C = A·B for A (m, k) and B (k, n), the best of at least `repeats` timed
    /// batches of about 2 GFLOP each, timed for at least `minSeconds` in all: on a shared
    /// virtual machine single batches vary by ±20%, and the best of half a second is steady.
    /// With `cpuTime`, per CPU second instead of per wall second.
    public static func sgemmRate(m: Int = 4096, n: Int = 128, k: Int = 128, repeats: Int = 5, minSeconds: Double = 0.5,
                                 cpuTime: Bool = false) -> Double {
        let clock = cpuTime ? cpuNow : now
        let a = Tensor(shape: [m, k]), b = Tensor(shape: [k, n]), c = Tensor(shape: [m, n])
        var rng = RNG(seed: 1)
        rng.fillNormal(a.data, count: a.count, std: 1)
        rng.fillNormal(b.data, count: b.count, std: 1)
        let flops = 2.0 * Double(m * n * k)
        let inner = max(1, Int(2e9 / flops))    // about 2 GFLOP per timed batch
        // Warm up for one whole batch: the first tenth of a second after start-up runs slow.
        for _ in 0..<inner { gemm(c.data, ldc: n, a.data, lda: k, b.data, ldb: n, m: m, n: n, k: k) }
        var best = 0.0, timed = 0.0, batches = 0
        while batches < repeats || timed < minSeconds {
            let t0 = clock()
            for _ in 0..<inner { gemm(c.data, ldc: n, a.data, lda: k, b.data, ldb: n, m: m, n: n, k: k) }
            let seconds = clock() - t0
            best = max(best, flops * Double(inner) / seconds / 1e9)
            timed += seconds
            batches += 1
        }
        return best
    }

    public struct TrainingResult: Sendable {
        public var config: GPTConfig
        public var batchSize: Int
        public var steps: Int
        public var seconds: Double
        /// CPU seconds of the timed steps on the calling thread (meaningful with one BLAS thread).
        public var cpuSeconds: Double
        public var firstLoss: Float
        public var lastLoss: Float
        public var tokensPerSecond: Double { Double(steps * batchSize * config.context) / seconds }
        /// Achieved training GFLOP/s by the Appendix F count.
        public var gflops: Double { tokensPerSecond * config.trainingFLOPsPerToken / 1e9 }
        /// Tokens per CPU second: what one uncontended core would give.
        public var tokensPerCPUSecond: Double { Double(steps * batchSize * config.context) / cpuSeconds }
    }

    /// Trains `steps` timed steps (after `warmup` untimed ones) on random tokens with
    /// p -= lr·g, returning the throughput.
    public static func training(config: GPTConfig, batchSize: Int, steps: Int, warmup: Int = 2,
                                lr: Float = 1e-2, seed: UInt64 = 1) throws -> TrainingResult {
        let model = try GPT(config: config, batchSize: batchSize, seed: seed)
        let n = batchSize * config.context
        var rng = RNG(seed: seed &+ 1)
        var inputs = [Int32](repeating: 0, count: n), targets = inputs
        for i in 0..<n {
            inputs[i] = Int32(rng.nextInt(below: config.vocabSize))
            targets[i] = Int32(rng.nextInt(below: config.vocabSize))
        }
        var first: Float = 0, last: Float = 0, t0 = 0.0, c0 = 0.0
        let p = model.parameters, g = model.gradients, count = model.parameterCount
        for step in 0..<(warmup + steps) {
            if step == warmup { t0 = now(); c0 = cpuNow() }
            last = model.forwardBackward(inputs: inputs, targets: targets)
            if step == 0 { first = last }
            for i in 0..<count { p[i] -= lr * g[i] }
        }
        return TrainingResult(config: config, batchSize: batchSize, steps: steps, seconds: now() - t0, cpuSeconds: cpuNow() - c0,
                              firstLoss: first, lastLoss: last)
    }
}
