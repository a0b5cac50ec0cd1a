// `isoflop bench`'s table row and its parity files for PyTorch, built in process.
import Foundation
@testable import Model
import Tensor
import XCTest

final class BenchmarkTextTests: XCTestCase {
    func testTableRowGivesRatesAndTheirShareOfTheSgemmRate() {
        let c = GPTConfig(vocabSize: 512, context: 128, d: 64, layers: 2)
        // 10 steps of 4 × 128 tokens in 2 s of wall time and 4 s of CPU time.
        let r = Benchmark.TrainingResult(config: c, batchSize: 4, steps: 10, seconds: 2, cpuSeconds: 4, firstLoss: 6.25, lastLoss: 5.5)
        let gflops = 2560 * c.trainingFLOPsPerToken / 1e9
        let row = Benchmark.tableRow(r, sgemm: 2 * gflops, sgemmPerCPUSecond: gflops)
        XCTAssertEqual(row, "d=64 L=2 h=32 V=512 B=4   " + " " + pad(String(format: "%.1f", 2 * gflops), 6) + " | " + "    2560"
                       + " " + pad(String(format: "%.1f", gflops), 9) + " " + "    50.0%" + "  | " + pad("1280", 16) + " " + "    50.0%"
                       + "   6.250→5.500")
    }

    func testParityFilesAreSeededAndHoldTheLossTheyReport() throws {
        let dir = NSTemporaryDirectory() + "isoflop-parity-\(UUID().uuidString)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        let c = GPTConfig(vocabSize: 16, context: 8, d: 32, layers: 1)
        let line = try Benchmark.writeParityFiles(c, batch: 2, to: dir + "/a")
        _ = try Benchmark.writeParityFiles(c, batch: 2, to: dir + "/b")
        let loss = try String(contentsOfFile: dir + "/a/loss.txt", encoding: .utf8)
        XCTAssertEqual(line, "wrote \(dir)/a/model.safetensors, inputs.bin, targets.bin (2×8); Swift loss \(loss.dropLast())")
        for name in ["model.safetensors", "inputs.bin", "targets.bin", "loss.txt"] {
            XCTAssertEqual(FileManager.default.contents(atPath: dir + "/a/" + name), FileManager.default.contents(atPath: dir + "/b/" + name), name)
        }
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/a/inputs.bin")?.count, 2 * 8 * 4, "one Int32 per token")
    }
}
