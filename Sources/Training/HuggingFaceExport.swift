// A checkpoint as a Hugging Face folder (GPT2LMHeadModel config, weights under GPT-2's names,
// tokenizer files) that `transformers` loads with no custom code, and isoflop's own numbers on
// fixed inputs for a script to compare against transformers.
import Foundation
import Model
import Tensor
import Tokenizer

/// What an export refuses, with the file or flag and the value.
public enum HuggingFaceExportError: Error, CustomStringConvertible, Equatable {
    case noTokenizer(checkpoint: String)
    case vocabMismatch(tokenizer: String, tokens: Int, vocab: Int)
    case noEndOfText(tokenizer: String)
    case cannotCreate(dir: String, reason: String)
    case unknownTokenizer(tokens: String, candidate: String, sidecar: String)
    case shortTokenFile(path: String, count: Int, needed: Int)
    case checkTooLong(tokens: Int, context: Int)
    case tokensBeyondVocab(path: String, vocab: Int)

    public var description: String {
        switch self {
        case let .noTokenizer(checkpoint):
            return "\(checkpoint): the run config names no training tokens to find its tokenizer by; name it with --tokenizer"
        case let .vocabMismatch(tokenizer, tokens, vocab): return "\(tokenizer): \(tokens) tokens, but the model has a vocabulary of \(vocab)"
        case let .noEndOfText(tokenizer): return "\(tokenizer): no \(BPETokenizer.endOfText) token, which GPT-2 needs as its end of text"
        case let .cannotCreate(dir, reason): return "cannot create \(dir): \(reason)"
        case let .unknownTokenizer(tokens, candidate, sidecar):
            return "cannot tell which tokenizer encoded \(tokens) (looked for \(candidate), checked against \(sidecar)); name it with --tokenizer"
        case let .shortTokenFile(path, count, needed): return "\(path): \(count) tokens, the check needs \(needed)"
        case let .checkTooLong(tokens, context):
            return "--check-prompt + --check-count = \(tokens) exceeds the context \(context) (GPT-2 cannot go past n_positions)"
        case let .tokensBeyondVocab(path, vocab): return "\(path): token ids beyond the model's vocabulary of \(vocab)"
        }
    }
}

/// How an export finds its tokenizer and what its check computes.
public struct HuggingFaceExportOptions {
    /// tokenizer.json of the model (nil: the one that encoded the run's training tokens).
    public var tokenizer: String?
    /// A token file: also write isoflop-check.json (loss on its first windows, greedy tokens).
    public var checkTokens: String?
    /// Windows of context + 1 tokens in the loss check.
    public var checkWindows = 4
    /// Prompt tokens of the greedy check and tokens it generates.
    public var checkPrompt = 16
    public var checkCount = 32
    /// Write into a folder that holds files an export did not write.
    public var force = false

    public init() {}
}

/// Writes the checkpoint in `checkpoint` into `dir` as a GPT-2 folder: config.json,
/// model.safetensors, tokenizer.json, tokenizer_config.json, special_tokens_map.json and, with
/// `checkTokens`, isoflop-check.json. Returns the line that says what was written.
public func exportHuggingFace(checkpoint: String, to dir: String, options: HuggingFaceExportOptions) throws -> String {
    if !options.force { try HuggingFaceGPT2.checkExportFolder(dir) }
    let config = try Checkpoint.config(in: checkpoint)
    let shape = config.model
    try HuggingFaceGPT2.check(shape)
    guard let tokenizerPath = try options.tokenizer ?? config.trainTokens.map(tokenizerOfTokens) else {
        throw HuggingFaceExportError.noTokenizer(checkpoint: checkpoint)
    }
    let tok = try BPETokenizer.load(from: tokenizerPath)
    guard tok.vocabSize == shape.vocabSize else {
        throw HuggingFaceExportError.vocabMismatch(tokenizer: tokenizerPath, tokens: tok.vocabSize, vocab: shape.vocabSize)
    }
    guard let eot = tok.endOfTextId, let files = tok.huggingFaceFiles(context: shape.context) else {
        throw HuggingFaceExportError.noEndOfText(tokenizer: tokenizerPath)
    }
    let model = try GPT(config: shape, batchSize: options.checkWindows, seed: config.seed)
    try Checkpoint.loadParameters(from: checkpoint, into: model)
    do {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    } catch {
        throw HuggingFaceExportError.cannotCreate(dir: dir, reason: error.localizedDescription)
    }
    func path(_ name: String) -> String { (dir as NSString).appendingPathComponent(name) }
    let tensors = try HuggingFaceGPT2.tensors(parameters: model.parameters, table: model.parameterTable, config: shape)
    try Safetensors.write(tensors: tensors, metadata: ["format": "pt"], to: path("model.safetensors"))
    try Safetensors.writeAtomically(Data(try HuggingFaceGPT2.configJSON(shape, endOfText: eot).utf8), to: path("config.json"))
    try tok.save(to: path("tokenizer.json"))
    try Safetensors.writeAtomically(Data(files.tokenizerConfig.utf8), to: path("tokenizer_config.json"))
    try Safetensors.writeAtomically(Data(files.specialTokensMap.utf8), to: path("special_tokens_map.json"))
    var written = 5
    if let checkTokens = options.checkTokens {
        let check = try huggingFaceCheckJSON(model, tokens: checkTokens, windows: options.checkWindows,
                                             prompt: options.checkPrompt, count: options.checkCount)
        try Safetensors.writeAtomically(Data(check.utf8), to: path("isoflop-check.json"))
        written += 1
    }
    return "wrote \(written) files to \(dir) (GPT-2: n_embd \(shape.d), n_layer \(shape.layers), n_head \(shape.heads), "
        + "n_positions \(shape.context), vocab \(shape.vocabSize))"
}

/// The tokenizer a token file was encoded with: `data/tokens/NAME/x.u16` was written by
/// `data/tokenizers/NAME/tokenizer.json`, checked against the sidecar's fingerprint.
public func tokenizerOfTokens(_ tokens: String) throws -> String {
    let folder = (tokens as NSString).deletingLastPathComponent
    let name = (folder as NSString).lastPathComponent
    let candidate = (((folder as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent as NSString)
        .appendingPathComponent("tokenizers/\(name)/tokenizer.json")
    let sidecar = tokens + ".json"
    guard let data = FileManager.default.contents(atPath: sidecar),
          let meta = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
          let wanted = meta["tokenizerSHA256"] as? String,
          FileManager.default.fileExists(atPath: candidate),
          try BPETokenizer.load(from: candidate).fingerprint == wanted
    else {
        throw HuggingFaceExportError.unknownTokenizer(tokens: tokens, candidate: candidate, sidecar: sidecar)
    }
    return candidate
}

/// isoflop's own numbers on fixed inputs: the mean cross-entropy over the first `windows`
/// windows of the token file (inputs t[k·T ..< k·T + T], targets shifted by one), and the
/// greedy continuation of its first `prompt` tokens by `count` tokens, as `isoflop sample
/// --temperature 0` gives it. `model` has a batch of `windows` sequences.
public func huggingFaceCheckJSON(_ model: LanguageModel, tokens path: String, windows: Int, prompt promptCount: Int,
                                 count: Int) throws -> String {
    let file = try TokenFile(path: path)
    let T = model.config.context
    let needed = windows * T + 1
    guard file.count >= needed else { throw HuggingFaceExportError.shortTokenFile(path: path, count: file.count, needed: needed) }
    guard promptCount + count <= T else { throw HuggingFaceExportError.checkTooLong(tokens: promptCount + count, context: T) }
    var inputs = [Int32](), targets = [Int32]()
    for k in 0..<windows {
        for t in 0..<T {
            inputs.append(Int32(file[k * T + t]))
            targets.append(Int32(file[k * T + t + 1]))
        }
    }
    guard Int(inputs.max()!) < model.config.vocabSize, Int(targets.max()!) < model.config.vocabSize else {
        throw HuggingFaceExportError.tokensBeyondVocab(path: path, vocab: model.config.vocabSize)
    }
    let loss = model.loss(inputs: inputs, targets: targets)
    let sampler = try GPT(config: model.config, batchSize: 1, seed: 0)
    sampler.parameters.update(from: model.parameters, count: model.parameterCount)
    let prompt = Array(inputs.prefix(promptCount))
    let greedy = Sampling.generate(model: sampler, prompt: prompt, count: count, temperature: 0, topK: 0, seed: 0)
    func list(_ a: [Int32]) -> String { "[" + a.map(String.init).joined(separator: ", ") + "]" }
    let inputRows = (0..<windows).map { k in list(Array(inputs[k * T ..< (k + 1) * T])) }
    let targetRows = (0..<windows).map { k in list(Array(targets[k * T ..< (k + 1) * T])) }
    return "{\n  \"token_file\": \(jsonQuoted(path)),\n  \"loss\": \(Double(loss)),\n"
        + "  \"inputs\": [\n    " + inputRows.joined(separator: ",\n    ") + "\n  ],\n"
        + "  \"targets\": [\n    " + targetRows.joined(separator: ",\n    ") + "\n  ],\n"
        + "  \"prompt\": \(list(prompt)),\n  \"greedy\": \(list(greedy))\n}\n"
}
