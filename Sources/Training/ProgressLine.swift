// The live line of one training run (`isoflop train`): rewritten in place on a terminal, plain
// lines every k steps otherwise. It builds the text; its caller's closures put it on screen.
import Foundation
import Tensor

/// Where a run's text goes: `line` prints a line of its own; `overwrite`, when the output is a
/// terminal, rewrites the current line in place (nil: plain lines only).
public struct RunOutput {
    public var line: (String) -> Void
    public var overwrite: ((String) -> Void)?

    public init(line: @escaping (String) -> Void, overwrite: ((String) -> Void)? = nil) {
        self.line = line
        self.overwrite = overwrite
    }
}

/// Step, loss, rate and ETA of one run: redrawn at most every 0.1 s of training on a terminal,
/// otherwise printed every `logEvery` steps and at the last step.
public struct ProgressLine {
    public let total: Int
    public let tokensPerStep: Int
    public let flopsPerToken: Double
    public let logEvery: Int
    let output: RunOutput
    var seconds = 0.0
    var tokens = 0
    var stepsTimed = 0
    var lastDraw = 0.0
    var lineOpen = false

    public init(total: Int, tokensPerStep: Int, flopsPerToken: Double, logEvery: Int, output: RunOutput) {
        self.total = total
        self.tokensPerStep = tokensPerStep
        self.flopsPerToken = flopsPerToken
        self.logEvery = max(1, logEvery)
        self.output = output
    }

    /// The line after `r`, with the rate and ETA over the `seconds` of every step timed so far.
    public mutating func record(_ r: StepResult, seconds s: Double) {
        seconds += s
        tokens += tokensPerStep
        stepsTimed += 1
        let rate = Double(tokens) / max(seconds, 1e-9)
        let eta = Double(total - r.step) * seconds / Double(stepsTimed)
        let line = String(format: "step %d/%d  loss %.4f  lr %.2e  |g| %.3f  %.0f tok/s  %.1f GFLOP/s  ETA %@",
                          r.step, total, r.loss, r.lr, r.gradNorm, rate, rate * flopsPerToken / 1e9, formatDuration(eta))
        if let overwrite = output.overwrite {
            if seconds - lastDraw >= 0.1 || r.step == total {
                lastDraw = seconds
                overwrite("\r" + line + "\u{1B}[K")
                lineOpen = true
            }
        } else if r.step % logEvery == 0 || r.step == total {
            output.line(line)
        }
    }

    /// Prints a line of its own without clobbering the progress line.
    public mutating func note(_ s: String) {
        finishLine()
        output.line(s)
    }

    /// Ends a progress line left open on a terminal.
    public mutating func finishLine() {
        if lineOpen { output.line(""); lineOpen = false }
    }
}
