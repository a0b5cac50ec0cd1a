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
        "\(cpuModelName()) | OpenBLAS \(BLAS.coreName) | \(Kernels.active.rawValue) kernels"
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

extension Benchmark {
    /// The first line of `isoflop bench`: the BLAS core, threads, kernels and the sgemm rate per CPU-second.
    public static func header(threads: Int, sgemmPerCPUSecond: Double) -> String {
        "OpenBLAS core \(BLAS.coreName), \(threads) thread(s), \(Kernels.active.rawValue) kernels; "
            + "sgemm 4096×128×128: \(fixed(sgemmPerCPUSecond, 1)) GFLOP/s per CPU-second"
    }

    /// The column heads of `isoflop bench`'s table.
    public static let tableHead = "shape                       sgemm | tokens/s   GFLOP/s  of sgemm | per CPU-s: tokens  of sgemm   loss first→last"

    /// One shape's row: the wall sgemm rate measured just before it, tokens/s and GFLOP/s with
    /// their share of that rate, tokens per CPU-second with its share of `sgemmPerCPUSecond`,
    /// and the loss of the first and last step.
    public static func tableRow(_ r: TrainingResult, sgemm: Double, sgemmPerCPUSecond: Double) -> String {
        let c = r.config
        let name = "d=\(c.d) L=\(c.layers) h=\(c.headSize) V=\(c.vocabSize) B=\(r.batchSize)"
        return [name.padding(toLength: 26, withPad: " ", startingAt: 0), pad(fixed(sgemm, 1), 6), "|",
                pad(fixed(r.tokensPerSecond, 0), 8), pad(fixed(r.gflops, 1), 9), pad(fixed(100 * r.gflops / sgemm, 1) + "%", 9), " |",
                pad(fixed(r.tokensPerCPUSecond, 0), 16),
                pad(fixed(100 * r.tokensPerCPUSecond * c.trainingFLOPsPerToken / 1e9 / sgemmPerCPUSecond, 1) + "%", 9),
                "  \(fixed(Double(r.firstLoss), 3))→\(fixed(Double(r.lastLoss), 3))"].joined(separator: " ")
    }

    /// One batch, its loss and a seeded model (init plus noise) written into `dir` as
    /// model.safetensors, inputs.bin, targets.bin and loss.txt, for scripts/parity_torch.py to
    /// compare with PyTorch; returns the line that says so.
    public static func writeParityFiles(_ c: GPTConfig, batch: Int, to dir: String) throws -> String {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let model = try GPT(config: c, batchSize: batch, seed: 1234)
        let n = batch * c.context
        var rng = RNG(seed: 99)
        // Spread the parameters well beyond the 0.02 init, so that the comparison exercises
        // every nonlinearity instead of a near-uniform softmax.
        for i in 0..<model.parameterCount { model.parameters[i] += 0.1 * rng.nextNormal() }
        let inputs = (0..<n).map { _ in Int32(rng.nextInt(below: c.vocabSize)) }
        let targets = (0..<n).map { _ in Int32(rng.nextInt(below: c.vocabSize)) }
        try Safetensors.write(parameters: model.parameters, table: model.parameterTable,
                              metadata: ["d": "\(c.d)", "layers": "\(c.layers)", "head_size": "\(c.headSize)",
                                         "vocab": "\(c.vocabSize)", "context": "\(c.context)"],
                              to: dir + "/model.safetensors")
        for (name, tokens) in [("inputs", inputs), ("targets", targets)] {
            let data = tokens.withUnsafeBufferPointer { Data(buffer: $0) }   // little-endian hosts
            try data.write(to: URL(fileURLWithPath: dir + "/\(name).bin"))
        }
        let loss = model.forwardBackward(inputs: inputs, targets: targets)
        try "\(loss)\n".write(toFile: dir + "/loss.txt", atomically: true, encoding: .utf8)
        return "wrote \(dir)/model.safetensors, inputs.bin, targets.bin (\(batch)×\(c.context)); Swift loss \(loss)"
    }
}

private func fixed(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }
