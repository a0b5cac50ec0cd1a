import ArgumentParser
import Foundation
import Model
import Study
import Tensor

/// `isoflop bench`: training throughput of gpt-mini shapes against the single-thread sgemm
/// rate measured in the same run.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure training tokens/s and achieved GFLOP/s against the sgemm rate.")

    @Option(help: "Comma-separated shapes d×L, e.g. 64x2,128x3 (head size 32; dxLxH gives head size H).")
    var shapes: String = "64x2,128x3,256x6"
    @Option(help: "Vocabulary size.")
    var vocab: Int = 2048
    @Option(help: "Sequences per batch (each of --context tokens).")
    var batch: Int = 32
    @Option(help: "Context length T.")
    var context: Int = 128
    @Option(help: "Timed training steps per shape.")
    var steps: Int = 30
    @Option(help: "OpenBLAS threads.")
    var threads: Int = 1
    @Option(help: "Elementwise kernels: portable or avx2 (default: the fastest this CPU runs).")
    var kernels: KernelSet?
    @Flag(help: "Also run two single-thread processes side by side and report aggregate tokens/s.")
    var sideBySide = false
    @Option(help: "Write model.safetensors, inputs.bin, targets.bin and loss.txt for scripts/parity_torch.py, then stop.")
    var dumpParity: String?
    @Flag(help: .hidden) var worker = false

    func validate() throws {
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1") }
        guard (1...256).contains(threads) else { throw ValidationError("--threads \(threads) must be in 1...256") }
        guard batch >= 1, context >= 1, vocab >= 2 else { throw ValidationError("--batch, --context and --vocab must be positive") }
        _ = try parsedShapes()
    }

    func parsedShapes() throws -> [GPTConfig] {
        try shapes.split(separator: ",").map { s in
            let parts = s.split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2 || parts.count == 3 else { throw ValidationError("--shapes: '\(s)' is not d x L (e.g. 64x2)") }
            let c = GPTConfig(vocabSize: vocab, context: context, d: parts[0], layers: parts[1], headSize: parts.count == 3 ? parts[2] : 32)
            do { try c.validate() } catch { throw ValidationError("--shapes: \(error)") }
            return c
        }
    }

    func run() throws {
        BLAS.selectFastKernelsByRestarting()
        BLAS.setThreads(threads)
        if let kernels, !Kernels.use(kernels) { throw ValidationError("--kernels \(kernels.rawValue): this CPU cannot run them") }
        let configs = try parsedShapes()
        if let dir = dumpParity { return print(try Benchmark.writeParityFiles(configs[0], batch: batch, to: dir)) }
        if worker {
            let r = try Benchmark.training(config: configs[0], batchSize: batch, steps: steps)
            print("tokens/s \(r.tokensPerSecond)")
            return
        }
        // The machine may be shared: sgemm is measured again before each shape (wall clock, for
        // that shape's wall figures) and per CPU-second (what one core gives uncontended).
        let sgemmCPU = Benchmark.sgemmRate(cpuTime: true)
        print(Benchmark.header(threads: threads, sgemmPerCPUSecond: sgemmCPU))
        print(Benchmark.tableHead)
        for c in configs {
            let sgemm = Benchmark.sgemmRate(repeats: 3)
            let r = try Benchmark.training(config: c, batchSize: batch, steps: steps)
            print(Benchmark.tableRow(r, sgemm: sgemm, sgemmPerCPUSecond: sgemmCPU))
            if sideBySide {
                let rates = try twoProcesses(c)
                print("  two single-thread processes side by side: \(fmt(rates.reduce(0, +), 0)) tokens/s aggregate (\(rates.map { fmt($0, 0) }.joined(separator: " + ")))")
            }
        }
    }

    /// Runs two worker copies of this executable at once and returns each one's tokens/s.
    func twoProcesses(_ c: GPTConfig) throws -> [Double] {
        try sideBySideRates(["bench", "--worker", "--shapes", "\(c.d)x\(c.layers)x\(c.headSize)", "--vocab", "\(vocab)",
                             "--batch", "\(batch)", "--context", "\(context)", "--steps", "\(steps)", "--threads", "1",
                             "--kernels", Kernels.active.rawValue])
    }
}

extension KernelSet: ExpressibleByArgument {}

private func fmt(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }

