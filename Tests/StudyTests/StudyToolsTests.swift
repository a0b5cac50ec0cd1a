// Smaller pieces the tool's commands call: the horizon experiment's flags and lines, what tune
// does with a pilot's rule, and a dry run's scratch store.
@testable import Fit
import Foundation
@testable import Study
import Sweep
import XCTest

final class StudyToolsTests: XCTestCase {
    func testHorizonCyclesAreMultiplesFromOneToAThousand() {
        XCTAssertEqual(HorizonExperiment.cycleMultiples("1, 1.5,2"), [1, 1.5, 2])
        for bad in ["", "1,,2", "0.5", "1001", "1,x"] { XCTAssertNil(HorizonExperiment.cycleMultiples(bad), bad) }
    }

    func testHorizonLinesCompareEachCycleWithTheMatchedOne() throws {
        var e = HorizonExperiment(model: .init(vocabSize: 512, context: 128, d: 64, layers: 1))
        e.steps = 200
        XCTAssertEqual(e.finishedLine(cycle: 1.5, loss: 3.25), "cycle 1.5× (300 steps): final eval loss 3.2500")
        XCTAssertEqual(HorizonExperiment.penaltyLines([(1, 3.0), (2, 3.125), (5, 3.5)]),
                       ["  2.0× cycle costs +0.1250 nats against the matched cycle", "  5.0× cycle costs +0.5000 nats against the matched cycle"])
        XCTAssertEqual(HorizonExperiment.penaltyLines([(2, 3.1)]), [], "nothing to compare without the matched cycle")
        let path = try temporaryFolder() + "/a/b/h.csv"
        try HorizonExperiment.writeCSV("1.0,100,0.001,3.5\n", to: path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "cycle,step,lr,eval_loss\n1.0,100,0.001,3.5\n")
    }

    func pilot(rms: Double) throws -> PilotResult {
        PilotResult(pilot: try tinyConfig(), shapes: [],
                    rule: LRRuleFit(intercept: -4.5, width: -0.5, steps: -0.25, batchTerm: 0, residuals: [], rms: rms), runs: 6)
    }

    func testAPoorRuleIsWrittenOnlyWhenForcedAndAlwaysWarnedOf() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let original = try String(contentsOf: root.appendingPathComponent("configs/quick.toml"), encoding: .utf8)
        let file = try temporaryFolder() + "/sweep.toml"
        try original.write(toFile: file, atomically: true, encoding: .utf8)
        let poor = try pilot(rms: 0.5)
        XCTAssertThrowsError(try settlePilotRule(poor, schedule: .matched, file: file, original: original, write: true, force: false)) {
            XCTAssertEqual($0 as? StudyError, .poorRule(file: file, reason: poorRuleFit(rms: 0.5, shapes: 0)!))
        }
        XCTAssertEqual(try String(contentsOfFile: file, encoding: .utf8), original, "nothing written")
        XCTAssertEqual(try settlePilotRule(poor, schedule: .matched, file: file, original: original, write: false, force: false),
                       ["warning: " + poorRuleFit(rms: 0.5, shapes: 0)!,
                        "(rerun with --write to put it into \(file); the pilot's runs are kept and not trained again)"])
        XCTAssertEqual(try settlePilotRule(poor, schedule: .wsd, file: file, original: original, write: false, force: false).count, 1,
                       "a wsd pilot fits no rule to warn of")
        XCTAssertEqual(try settlePilotRule(poor, schedule: .matched, file: file, original: original, write: true, force: true).last,
                       "wrote the rule into \(file)'s [lr] table")
        XCTAssertEqual(try SweepConfig.load(path: file).lr.intercept, -4.5, "the fitted rule is in the [lr] table")
        XCTAssertEqual(try SweepConfig.load(path: file).lr.steps, -0.25)
    }

    func testEveryDryRunGetsAScratchStoreOfItsOwn() throws {
        let a = try scratchStoreURL(), b = try scratchStoreURL()
        XCTAssertNotEqual(a, b)
        for url in [a, b] {
            let folder = (url as NSString).deletingLastPathComponent
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder))
            XCTAssertEqual((url as NSString).lastPathComponent, "sweep.sqlite")
            try FileManager.default.removeItem(atPath: folder)
        }
    }
}
