// The live line of one training run: plain lines every k steps off a terminal, one line
// rewritten in place on it, and notes that do not clobber it.
import Foundation
import Training
import XCTest

final class ProgressLineTests: XCTestCase {
    func step(_ n: Int) -> StepResult { StepResult(step: n, loss: 2.5, lr: 1e-3, gradNorm: 0.5, tokens: n * 100) }

    func testPlainLinesComeEveryKStepsAndAtTheLast() {
        var lines: [String] = []
        var progress = ProgressLine(total: 5, tokensPerStep: 100, flopsPerToken: 1e6, logEvery: 2,
                                    output: RunOutput(line: { lines.append($0) }))
        for n in 1...5 { progress.record(step(n), seconds: 0.5) }
        XCTAssertEqual(lines.map { String($0.prefix(9)) }, ["step 2/5 ", "step 4/5 ", "step 5/5 "])
        // 100 tokens per 0.5 s: 200 tokens/s, 0.2 GFLOP/s at 1e6 FLOPs per token; one step left after step 4.
        XCTAssertEqual(lines[1], "step 4/5  loss 2.5000  lr 1.00e-03  |g| 0.500  200 tok/s  0.2 GFLOP/s  ETA 1s")
        progress.finishLine()
        XCTAssertEqual(lines.count, 3, "no line is left open off a terminal")
    }

    func testOnATerminalTheLineIsRewrittenAndANoteEndsItFirst() {
        var lines: [String] = [], frames: [String] = []
        var progress = ProgressLine(total: 100, tokensPerStep: 10, flopsPerToken: 1, logEvery: 1,
                                    output: RunOutput(line: { lines.append($0) }, overwrite: { frames.append($0) }))
        progress.record(step(1), seconds: 0.2)
        progress.record(step(2), seconds: 0.01)
        XCTAssertEqual(frames.count, 1, "redrawn at most every 0.1 s of training")
        XCTAssertTrue(frames[0].hasPrefix("\rstep 1/100  loss 2.5000"), frames[0])
        XCTAssertTrue(frames[0].hasSuffix("\u{1B}[K"), "the rest of the old line is cleared")
        progress.note("eval at step 2: 2.4000")
        XCTAssertEqual(lines, ["", "eval at step 2: 2.4000"], "the open progress line is ended before the note")
        progress.finishLine()
        XCTAssertEqual(lines.count, 2, "nothing is open after the note")
        progress.record(step(100), seconds: 0.01)
        XCTAssertEqual(frames.count, 2, "the last step is always drawn")
    }
}
