// A tiny language model with exact hand-written gradients, so the trainer can be tested
// without the gpt-mini engine: logits(next | x) = W[x] + b.

import Foundation
import Model
import Tensor
import Training
import XCTest


final class BigramModel: LanguageModel {
    let config: GPTConfig
    let batchSize: Int
    let parameterCount: Int
    let parameterTable: [ParameterInfo]
    let parameters: UnsafeMutablePointer<Float>
    let gradients: UnsafeMutablePointer<Float>
    /// Test hook: what `forwardBackward` reports instead of the loss.
    var forcedLoss: Float?
    private let probabilities: UnsafeMutablePointer<Double>

    /// W is V×V and decays; b has V entries and does not.
    init(vocabSize V: Int, context: Int, batchSize: Int, seed: UInt64) {
        config = GPTConfig(vocabSize: V, context: context, d: 32, layers: 1)
        self.batchSize = batchSize
        parameterCount = V * V + V
        parameterTable = [ParameterInfo(name: "wte.weight", shape: [V, V], offset: 0, decays: true),
                          ParameterInfo(name: "bias", shape: [V], offset: V * V, decays: false)]
        parameters = .allocate(capacity: parameterCount)
        gradients = .allocate(capacity: parameterCount)
        probabilities = .allocate(capacity: V)
        gradients.initialize(repeating: 0, count: parameterCount)
        var rng = RNG(seed: seed)
        for i in 0..<parameterCount { parameters[i] = Float(rng.nextDouble() - 0.5) * 0.2 }
    }

    deinit {
        parameters.deallocate()
        gradients.deallocate()
        probabilities.deallocate()
    }

    /// Softmax of row `x` into `probabilities`; returns -log p(y).
    private func rowLoss(_ x: Int, _ y: Int) -> Double {
        let V = config.vocabSize
        var top = -Double.infinity
        for j in 0..<V { top = max(top, Double(parameters[x * V + j] + parameters[V * V + j])) }
        var sum = 0.0
        for j in 0..<V {
            let e = exp(Double(parameters[x * V + j] + parameters[V * V + j]) - top)
            probabilities[j] = e
            sum += e
        }
        for j in 0..<V { probabilities[j] /= sum }
        return -log(probabilities[y])
    }

    func forwardBackward(inputs: UnsafePointer<Int32>, targets: UnsafePointer<Int32>) -> Float {
        let V = config.vocabSize, n = batchSize * config.context
        gradients.update(repeating: 0, count: parameterCount)
        var total = 0.0
        for i in 0..<n {
            let x = Int(inputs[i]), y = Int(targets[i])
            total += rowLoss(x, y)
            // d loss / d logit_j = (p_j − [j = y]) / n, shared by W[x, j] and b[j].
            for j in 0..<V {
                let g = Float((probabilities[j] - (j == y ? 1 : 0)) / Double(n))
                gradients[x * V + j] += g
                gradients[V * V + j] += g
            }
        }
        return forcedLoss ?? Float(total / Double(n))
    }

    func loss(inputs: UnsafePointer<Int32>, targets: UnsafePointer<Int32>) -> Float {
        let n = batchSize * config.context
        var total = 0.0
        for i in 0..<n { total += rowLoss(Int(inputs[i]), Int(targets[i])) }
        return Float(total / Double(n))
    }

    func nextTokenLogits(_ tokens: [Int32]) -> [Float] {
        let V = config.vocabSize, x = Int(tokens.last!)
        return (0..<V).map { parameters[x * V + $0] + parameters[V * V + $0] }
    }
}

/// A fresh temporary directory, removed when the test finishes.
func temporaryDirectory(_ test: XCTestCase) -> String {
    let dir = NSTemporaryDirectory() + "isoflop-training-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
    return dir
}

/// Writes `tokens` as little-endian uint16 and returns the path.
func writeTokens(_ tokens: [UInt16], in dir: String, name: String) -> String {
    let path = dir + "/" + name
    var data = Data()
    for t in tokens { withUnsafeBytes(of: t.littleEndian) { data.append(contentsOf: $0) } }
    _ = FileManager.default.createFile(atPath: path, contents: data)
    return path
}

/// A noisy deterministic chain over `V` symbols: mostly x → (3x + 1) mod V, so a bigram
/// model can learn it well below ln V.
func chainTokens(count: Int, vocabSize V: Int, seed: UInt64) -> [UInt16] {
    var rng = RNG(seed: seed)
    var x = 0
    var out: [UInt16] = []
    for _ in 0..<count {
        out.append(UInt16(x))
        x = rng.nextInt(below: 10) == 0 ? rng.nextInt(below: V) : (3 * x + 1) % V
    }
    return out
}
