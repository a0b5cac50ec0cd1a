// `isoflop train`'s work in process: a run config from a file or from values, a fresh run that
// stops and resumes, and the refusals that protect another run's folder.
import Foundation
import Model
import Sweep
@testable import Study
import Training
import XCTest

final class SingleRunTests: XCTestCase {
    /// A token file of `count` tokens below 16 (a repeating pattern with some noise).
    func tokenFile(in dir: String, count: Int = 4000) throws -> String {
        var rng = SystemRandomNumberGenerator()
        let tokens = (0..<count).map { i in UInt16((i * 7 + Int.random(in: 0..<2, using: &rng)) % 16) }
        let path = dir + "/tokens.u16"
        try tokens.withUnsafeBufferPointer { Data(buffer: $0) }.write(to: URL(fileURLWithPath: path))
        return path
    }

    func overrides(tokens: String) -> TrainOverrides {
        var o = TrainOverrides()
        (o.d, o.layers, o.vocab, o.context, o.steps, o.lr, o.batch, o.seed) = (32, 1, 16, 8, 6, 0.01, 2, 4)
        o.tokens = tokens
        return o
    }

    func testRunConfigFromValuesNeedsTheShapeAndAppliesEveryOverride() throws {
        XCTAssertThrowsError(try runConfig(file: nil, overrides: TrainOverrides())) {
            XCTAssertEqual($0 as? SingleRunError, .incompleteShape)
            XCTAssertEqual("\($0)", "give a run config, or all of --d, --layers, --steps and --lr")
        }
        var o = overrides(tokens: "t.u16")
        o.schedule = .wsd
        o.validationTokens = "v.u16"
        let c = try runConfig(file: nil, overrides: o)
        XCTAssertEqual([c.model.d, c.model.layers, c.model.vocabSize, c.model.context, c.steps, c.batchSize], [32, 1, 16, 8, 6, 2])
        XCTAssertEqual(c.schedule.peak, 0.01)
        XCTAssertEqual(c.schedule.kind, .wsd)
        XCTAssertEqual(c.seed, 4)
        XCTAssertEqual(c.trainTokens, "t.u16")
        XCTAssertEqual(c.validationTokens, "v.u16")
    }

    func testRunConfigFileIsOverriddenAndItsErrorsNameTheFile() throws {
        let dir = try temporaryFolder()
        let file = dir + "/run.json"
        try #"{"model": {"vocabSize": 16, "context": 8, "d": 32, "layers": 1}, "steps": 10, "schedule": {"kind": "matched", "peak": 0.02}}"#
            .write(toFile: file, atomically: true, encoding: .utf8)
        var o = TrainOverrides()
        o.layers = 2
        let c = try runConfig(file: file, overrides: o)
        XCTAssertEqual(c.model.layers, 2, "the flag wins")
        XCTAssertEqual(c.steps, 10, "the file's value stays")
        try #"{"model": {"vocabSize": 16, "context": 8, "d": 32, "layers": 1}, "steps": 0, "schedule": {"kind": "matched", "peak": 0.02}}"#
            .write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try loadRunConfig(path: file)) {
            guard case .invalidConfig(let path, _)? = $0 as? SingleRunError else { return XCTFail("\($0)") }
            XCTAssertEqual(path, file)
        }
    }

    func testAFreshRunStopsResumesFinishesAndRefusesToStartOverIt() throws {
        let dir = try temporaryFolder()
        let tokens = try tokenFile(in: dir)
        var lines: [String] = []
        let output = RunOutput(line: { lines.append($0) })
        var options = SingleRunOptions(out: dir + "/run")
        options.stopAfter = 3
        options.logEvery = 2
        let config = { try runConfig(file: nil, overrides: self.overrides(tokens: tokens)) }
        try trainSingleRun(options, config: config, output: output)
        XCTAssertTrue(lines[0].hasPrefix("d=32 L=1"), lines[0])
        XCTAssertTrue(lines[0].contains("  batch 2×8  6 steps  matched lr 0.01  "), lines[0])
        XCTAssertEqual(lines.filter { $0.hasPrefix("step ") }.map { String($0.prefix(8)) }, ["step 2/6"], "every 2 steps, not at the stop")
        XCTAssertEqual(lines.last, "stopped at step 3 of 6; continue with --resume")

        lines = []
        options.resume = true
        options.stopAfter = nil
        try trainSingleRun(options, config: { XCTFail("a resumed run takes the checkpoint's config"); return try config() }, output: output)
        XCTAssertTrue(lines[0].hasSuffix("  resuming at step 3"), lines[0])
        XCTAssertEqual(lines.filter { $0.hasPrefix("step ") }.map { String($0.prefix(8)) }, ["step 4/6", "step 6/6"])
        XCTAssertTrue(lines.last!.hasPrefix("done: 6 steps, 96 tokens, eval loss "), lines.last!)
        XCTAssertTrue(lines.last!.hasSuffix("; checkpoint in \(dir)/run/checkpoint"), lines.last!)
        let metrics = try String(contentsOfFile: dir + "/run/metrics.csv", encoding: .utf8)
        let rows = metrics.split(separator: "\n")
        XCTAssertEqual(rows.filter { $0.hasPrefix("train,") }.count, 6, "one row per step, none twice after the resume: \(metrics)")
        XCTAssertTrue(rows.last!.hasPrefix("eval,6,96,"), metrics)

        lines = []
        try trainSingleRun(options, config: config, output: output)
        XCTAssertEqual(lines, ["the checkpoint in \(dir)/run/checkpoint already completed its 6 steps"])

        options.resume = false
        XCTAssertThrowsError(try trainSingleRun(options, config: config, output: output)) {
            XCTAssertEqual($0 as? SingleRunError, .outHoldsRun(out: dir + "/run", existing: dir + "/run/checkpoint"))
        }
    }

    func testARunWithoutTrainingTokensIsRefusedBeforeTraining() throws {
        let dir = try temporaryFolder()
        var o = overrides(tokens: "unused")
        o.tokens = nil
        XCTAssertThrowsError(try trainSingleRun(SingleRunOptions(out: dir + "/run"), config: { try runConfig(file: nil, overrides: o) },
                                                output: RunOutput(line: { _ in }))) {
            XCTAssertEqual($0 as? SingleRunError, .noTrainingTokens)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/run"), "nothing is written")
    }
}
