import ArgumentParser
import Foundation
import Model
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
        if let dir = dumpParity { return try dump(configs[0], to: dir) }
        if worker {
            let r = try Benchmark.training(config: configs[0], batchSize: batch, steps: steps)
            print("tokens/s \(r.tokensPerSecond)")
            return
        }
        // The machine may be shared: sgemm is measured again before each shape (wall clock, for
        // that shape's wall figures) and per CPU-second (what one core gives uncontended).
        let sgemmCPU = Benchmark.sgemmRate(cpuTime: true)
        print("OpenBLAS core \(BLAS.coreName), \(threads) thread(s), \(Kernels.active.rawValue) kernels; sgemm 4096×128×128: \(fmt(sgemmCPU, 1)) GFLOP/s per CPU-second")
        print("shape                       sgemm | tokens/s   GFLOP/s  of sgemm | per CPU-s: tokens  of sgemm   loss first→last")
        for c in configs {
            let sgemm = Benchmark.sgemmRate(repeats: 3)
            let r = try Benchmark.training(config: c, batchSize: batch, steps: steps)
            let name = "d=\(c.d) L=\(c.layers) h=\(c.headSize) V=\(c.vocabSize) B=\(batch)"
            print(name.padding(toLength: 26, withPad: " ", startingAt: 0), fmt(sgemm, 1).leftPad(6), "|",
                  fmt(r.tokensPerSecond, 0).leftPad(8), fmt(r.gflops, 1).leftPad(9),
                  (fmt(100 * r.gflops / sgemm, 1) + "%").leftPad(9), " |",
                  fmt(r.tokensPerCPUSecond, 0).leftPad(16),
                  (fmt(100 * r.tokensPerCPUSecond * c.trainingFLOPsPerToken / 1e9 / sgemmCPU, 1) + "%").leftPad(9),
                  "  \(fmt(Double(r.firstLoss), 3))→\(fmt(Double(r.lastLoss), 3))")
            if sideBySide {
                let rates = try twoProcesses(c)
                print("  two single-thread processes side by side: \(fmt(rates.reduce(0, +), 0)) tokens/s aggregate (\(rates.map { fmt($0, 0) }.joined(separator: " + ")))")
            }
        }
    }

    /// Runs two worker copies of this executable at once and returns each one's tokens/s.
    func twoProcesses(_ c: GPTConfig) throws -> [Double] {
        let exe = URL(fileURLWithPath: CommandLine.arguments[0])
        let procs = (0..<2).map { _ -> (Process, Pipe) in
            let p = Process(), pipe = Pipe()
            p.executableURL = exe
            p.arguments = ["bench", "--worker", "--shapes", "\(c.d)x\(c.layers)x\(c.headSize)", "--vocab", "\(vocab)",
                           "--batch", "\(batch)", "--context", "\(context)", "--steps", "\(steps)", "--threads", "1",
                           "--kernels", Kernels.active.rawValue]
            p.standardOutput = pipe
            return (p, pipe)
        }
        for (p, _) in procs { try p.run() }
        return try procs.map { p, pipe in
            let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            guard let line = out.split(separator: "\n").first(where: { $0.hasPrefix("tokens/s ") }),
                  let v = Double(line.dropFirst(9)) else { throw CLIError("worker printed no rate: \(out)") }
            return v
        }
    }

    /// One batch, its loss and a seeded model (init plus noise), for comparison with PyTorch.
    func dump(_ c: GPTConfig, to dir: String) throws {
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
        print("wrote \(dir)/model.safetensors, inputs.bin, targets.bin (\(batch)×\(c.context)); Swift loss \(loss)")
    }
}

extension KernelSet: ExpressibleByArgument {}

private func fmt(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }

private extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
