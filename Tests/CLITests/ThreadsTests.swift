// `isoflop train --threads N` trains with N BLAS threads: the count is read back from OpenBLAS
// after the model is built, which used to reset it to one.
import Foundation
import XCTest

final class ThreadsTests: XCTestCase {
    /// The header line `isoflop train` prints once its trainer and model exist.
    func header(threads: [String]) throws -> String {
        let dir = try temporaryFolder()
        var rng = SystemRandomNumberGenerator()
        let tokens = (0..<4000).map { _ in UInt16.random(in: 0..<64, using: &rng) }
        try tokens.withUnsafeBufferPointer { Data(buffer: $0) }.write(to: URL(fileURLWithPath: dir + "/t.u16"))
        let out = Pipe()
        let p = try CLI.process(["train", "--d", "32", "--layers", "1", "--vocab", "64", "--context", "16", "--batch", "2",
                                 "--steps", "2", "--lr", "1e-3", "--tokens", dir + "/t.u16", "--out", dir + "/run"] + threads)
        p.standardOutput = out
        p.environment = ProcessInfo.processInfo.environment.filter { $0.key != "OPENBLAS_NUM_THREADS" }
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, text)
        return try XCTUnwrap(text.split(separator: "\n").first.map(String.init))
    }

    func testTrainRunsTheThreadsItIsGiven() throws {
        XCTAssertTrue(try header(threads: ["--threads", "2"]).hasSuffix("2 BLAS thread(s)"))
        XCTAssertTrue(try header(threads: []).hasSuffix("1 BLAS thread(s)"), "one thread by default")
    }
}
