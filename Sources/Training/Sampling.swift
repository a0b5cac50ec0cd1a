// Text generation from a trained model: temperature and top-k sampling.

import Foundation
import Model
import Tensor

public enum Sampling {
    /// Draws one token id from `logits` at `temperature` (≤ 0: the argmax) among the `topK`
    /// most likely (0 or ≥ vocabulary: all of them).
    public static func draw(_ logits: [Float], temperature: Double, topK: Int, rng: inout RNG) -> Int32 {
        var order = Array(logits.indices)
        order.sort { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        if temperature <= 0 { return Int32(order[0]) }
        if topK > 0, topK < order.count { order.removeLast(order.count - topK) }
        let top = Double(logits[order[0]])
        let weights = order.map { exp((Double(logits[$0]) - top) / temperature) }
        var u = rng.nextDouble() * weights.reduce(0, +)
        for (k, w) in weights.enumerated() {
            u -= w
            if u < 0 { return Int32(order[k]) }
        }
        return Int32(order[order.count - 1])
    }

    /// Extends `prompt` by `count` tokens, feeding the model at most its context.
    public static func generate(model: LanguageModel, prompt: [Int32], count: Int, temperature: Double,
                                topK: Int, seed: UInt64) -> [Int32] {
        var rng = RNG(seed: seed)
        var tokens = prompt
        for _ in 0..<count {
            let window = Array(tokens.suffix(model.config.context))
            tokens.append(draw(model.nextTokenLogits(window), temperature: temperature, topK: topK, rng: &rng))
        }
        return tokens
    }
}

