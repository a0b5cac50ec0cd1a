// Training batches from token files: seeded random windows, and a fixed evaluation sample.
import Tensor
import Tokenizer

extension TokenFile {
    /// Writes the window starting at `start` as inputs `[start, start+T)` and targets
    /// `[start+1, start+T]`, as Int32.
    @inline(__always)
    func copyWindow(start: Int, context T: Int, inputs: UnsafeMutablePointer<Int32>, targets: UnsafeMutablePointer<Int32>) {
        var previous = Int32(self[start])
        for t in 0..<T {
            let next = Int32(self[start + t + 1])
            inputs[t] = previous
            targets[t] = next
            previous = next
        }
    }
}

/// Fills a batch with random windows of a token file. The generator state is all there is
/// to save for a bit-exact resume.
public struct BatchSampler: Sendable {
    public var rng: RNG
    public init(seed: UInt64) { rng = RNG(seed: seed) }

    /// Fills `inputs` and `targets` (each `batch × context`) with `batch` windows whose
    /// starts are uniform over the file.
    public mutating func fill(from file: TokenFile, batch: Int, context: Int,
                              inputs: UnsafeMutablePointer<Int32>, targets: UnsafeMutablePointer<Int32>) {
        let starts = file.count - context
        for b in 0..<batch {
            let start = rng.nextInt(below: starts)
            file.copyWindow(start: start, context: context, inputs: inputs + b * context, targets: targets + b * context)
        }
    }
}

/// The held-out sample: `windows` windows evenly spaced over the file, the same every time.
public struct EvaluationSample: Sendable {
    public let starts: [Int]

    public init(file: TokenFile, context: Int, windows: Int) {
        let last = file.count - context - 1
        let n = max(1, windows)
        starts = (0..<n).map { n == 1 ? 0 : $0 * last / (n - 1) }
    }

    /// Windows of `context` tokens (and the next one's target) a file of `tokens` tokens holds
    /// without two overlapping: more spread over it only read the same text again.
    public static func distinctWindows(tokens: Int, context: Int) -> Int { max(1, (tokens - 1) / max(context, 1)) }

    /// Fills batch `index` (windows `index × batch ..< (index+1) × batch`).
    func fill(batch index: Int, from file: TokenFile, batch: Int, context: Int,
              inputs: UnsafeMutablePointer<Int32>, targets: UnsafeMutablePointer<Int32>) {
        for b in 0..<batch {
            file.copyWindow(start: starts[index * batch + b], context: context,
                            inputs: inputs + b * context, targets: targets + b * context)
        }
    }
}
