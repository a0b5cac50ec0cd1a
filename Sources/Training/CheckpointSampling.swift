// `isoflop sample`'s work: a checkpoint's model continuing a prompt given as token ids or as text
// (through a tokenizer.json, which must match the model's vocabulary), as ids or text.
import Foundation
import Model
import Tokenizer

/// A prompt as comma-separated token ids, or as text for a tokenizer to encode.
public enum SamplePrompt {
    case ids(String)
    case text(String)
}

/// What sampling refuses, with the value and the vocabulary it was checked against.
public enum SampleError: Error, CustomStringConvertible, Equatable {
    case notATokenId(String, vocab: Int)
    case tokenizerVocab(path: String, size: Int, vocab: Int)
    case outsideVocab(id: Int32, vocab: Int)
    case emptyPrompt

    public var description: String {
        switch self {
        case let .notATokenId(s, vocab): return "--ids: '\(s)' is not a token id below \(vocab)"
        case let .tokenizerVocab(path, size, vocab):
            return "--tokenizer \(path) has \(size) tokens, the checkpoint's model has a vocabulary of \(vocab)"
        case let .outsideVocab(id, vocab): return "prompt token id \(id) is outside the model's vocabulary of \(vocab)"
        case .emptyPrompt: return "the prompt is empty; give at least one token"
        }
    }
}

/// Continues `prompt` by `count` tokens with the model in `checkpoint` (temperature 0: greedy;
/// `topK` 0: all tokens) and returns prompt and continuation: decoded with `tokenizer` when one
/// is given, else as comma-separated ids.
public func sampleCheckpoint(_ checkpoint: String, prompt: SamplePrompt, tokenizer: String?, count: Int, temperature: Double,
                             topK: Int, seed: UInt64) throws -> String {
    let config = try Checkpoint.config(in: checkpoint)
    let V = config.model.vocabSize
    let start: [Int32]
    switch prompt {
    case .ids(let ids):
        start = try ids.split(separator: ",").map {
            let s = $0.trimmingCharacters(in: .whitespaces)
            guard let v = Int32(s), v >= 0, Int(v) < V else { throw SampleError.notATokenId(s, vocab: V) }
            return v
        }
    case .text(let text):
        start = try BPETokenizer.load(from: tokenizer ?? "").encode(text).map { Int32($0) }
    }
    let tok = try tokenizer.map { try BPETokenizer.load(from: $0) }
    // Ids of another tokenizer would index past the model's embedding table.
    if let tok, tok.vocabSize != V { throw SampleError.tokenizerVocab(path: tokenizer!, size: tok.vocabSize, vocab: V) }
    if let bad = start.first(where: { $0 < 0 || Int($0) >= V }) { throw SampleError.outsideVocab(id: bad, vocab: V) }
    guard !start.isEmpty else { throw SampleError.emptyPrompt }
    let model = try GPT(config: config.model, batchSize: 1, seed: config.seed)
    try Checkpoint.loadParameters(from: checkpoint, into: model)
    let out = Sampling.generate(model: model, prompt: start, count: count, temperature: temperature, topK: topK, seed: seed)
    guard let tok else { return out.map(String.init).joined(separator: ",") }
    return try tok.decodeText(out.map { Int($0) })
}
