// `isoflop export-hf`: a checkpoint as a Hugging Face folder (GPT2LMHeadModel config, weights
// under GPT-2's names, tokenizer files) that `transformers` loads with no custom code.
import ArgumentParser
import Foundation
import Model
import Tensor
import Tokenizer
import Training

struct ExportHFCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-hf",
        abstract: "Write a checkpoint as a Hugging Face GPT-2 folder: config.json, model.safetensors and the tokenizer files.",
        discussion: """
            The folder loads with transformers' AutoModelForCausalLM.from_pretrained(DIR) and \
            AutoTokenizer.from_pretrained(DIR). GPT-2 has biases where gpt-mini has none; they are \
            written as zeros. With --check-tokens, isoflop-check.json records isoflop's loss on the \
            first windows of that token file and its greedy continuation of a prompt, for \
            scripts/hf_export_check.py to compare against transformers.
            """)

    @Argument(help: "Checkpoint directory (as written by 'isoflop train' or a sweep's run).")
    var checkpoint: String

    @Argument(help: "Output folder (created if missing).")
    var dir: String

    @Option(help: "tokenizer.json of the model (default: the one the checkpoint's training tokens were encoded with, found beside them under data/tokenizers).")
    var tokenizer: String?

    @Option(name: .customLong("check-tokens"), help: "A uint16 token file: also write isoflop-check.json (loss on its first windows, greedy tokens).")
    var checkTokens: String?

    @Option(name: .customLong("check-windows"), help: "Windows of context + 1 tokens in the loss check.")
    var checkWindows: Int = 4

    @Option(name: .customLong("check-prompt"), help: "Prompt tokens of the greedy check (taken from the token file).")
    var checkPrompt: Int = 16

    @Option(name: .customLong("check-count"), help: "Tokens generated greedily in the check.")
    var checkCount: Int = 32

    @Flag(help: "Write into DIR even when it holds files an export did not write (they are kept; config.json and the others are replaced).")
    var force = false

    func validate() throws {
        guard checkWindows >= 1 else { throw ValidationError("--check-windows must be at least 1, not \(checkWindows)") }
        guard checkPrompt >= 1 else { throw ValidationError("--check-prompt must be at least 1, not \(checkPrompt)") }
        guard checkCount >= 0 else { throw ValidationError("--check-count must not be negative, not \(checkCount)") }
    }

    func run() throws {
        do { try export() } catch let e as CLIError { throw e } catch { throw CLIError("\(error)") }
    }

    func export() throws {
        if !force { try HuggingFaceGPT2.checkExportFolder(dir) }
        let config = try Checkpoint.config(in: checkpoint)
        let shape = config.model
        try HuggingFaceGPT2.check(shape)
        guard let tokenizerPath = try tokenizer ?? config.trainTokens.map(tokenizerOfTokens) else {
            throw CLIError("\(checkpoint): the run config names no training tokens to find its tokenizer by; name it with --tokenizer")
        }
        let tok = try BPETokenizer.load(from: tokenizerPath)
        guard tok.vocabSize == shape.vocabSize else {
            throw CLIError("\(tokenizerPath): \(tok.vocabSize) tokens, but the model has a vocabulary of \(shape.vocabSize)")
        }
        guard let eot = tok.endOfTextId, let files = tok.huggingFaceFiles(context: shape.context) else {
            throw CLIError("\(tokenizerPath): no \(BPETokenizer.endOfText) token, which GPT-2 needs as its end of text")
        }
        let model = try makeModel(config: shape, batchSize: checkWindows, seed: config.seed)
        try Checkpoint.loadParameters(from: checkpoint, into: model)
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw CLIError("cannot create \(dir): \(error.localizedDescription)")
        }
        func path(_ name: String) -> String { (dir as NSString).appendingPathComponent(name) }
        let tensors = try HuggingFaceGPT2.tensors(parameters: model.parameters, table: model.parameterTable, config: shape)
        try Safetensors.write(tensors: tensors, metadata: ["format": "pt"], to: path("model.safetensors"))
        try Safetensors.writeAtomically(Data(try HuggingFaceGPT2.configJSON(shape, endOfText: eot).utf8), to: path("config.json"))
        try tok.save(to: path("tokenizer.json"))
        try Safetensors.writeAtomically(Data(files.tokenizerConfig.utf8), to: path("tokenizer_config.json"))
        try Safetensors.writeAtomically(Data(files.specialTokensMap.utf8), to: path("special_tokens_map.json"))
        var written = 5
        if let checkTokens {
            try Safetensors.writeAtomically(Data(try checkJSON(model, tokens: checkTokens).utf8), to: path("isoflop-check.json"))
            written += 1
        }
        print("wrote \(written) files to \(dir) (GPT-2: n_embd \(shape.d), n_layer \(shape.layers), n_head \(shape.heads), n_positions \(shape.context), vocab \(shape.vocabSize))")
    }

    /// The tokenizer a token file was encoded with: `data/tokens/NAME/x.u16` was written by
    /// `data/tokenizers/NAME/tokenizer.json`, checked against the sidecar's fingerprint.
    func tokenizerOfTokens(_ tokens: String) throws -> String {
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
            throw CLIError("cannot tell which tokenizer encoded \(tokens) (looked for \(candidate), checked against \(sidecar)); name it with --tokenizer")
        }
        return candidate
    }

    /// isoflop's own numbers on fixed inputs: the mean cross-entropy over the first windows of
    /// the token file (inputs t[k·T ..< k·T + T], targets shifted by one), and the greedy
    /// continuation of the first prompt tokens, as `isoflop sample --temperature 0` gives it.
    func checkJSON(_ model: LanguageModel, tokens path: String) throws -> String {
        let file = try TokenFile(path: path)
        let T = model.config.context
        let needed = checkWindows * T + 1
        guard file.count >= needed else { throw CLIError("\(path): \(file.count) tokens, the check needs \(needed)") }
        guard checkPrompt + checkCount <= T else {
            throw CLIError("--check-prompt + --check-count = \(checkPrompt + checkCount) exceeds the context \(T) (GPT-2 cannot go past n_positions)")
        }
        var inputs = [Int32](), targets = [Int32]()
        for k in 0..<checkWindows {
            for t in 0..<T {
                inputs.append(Int32(file[k * T + t]))
                targets.append(Int32(file[k * T + t + 1]))
            }
        }
        guard Int(inputs.max()!) < model.config.vocabSize, Int(targets.max()!) < model.config.vocabSize else {
            throw CLIError("\(path): token ids beyond the model's vocabulary of \(model.config.vocabSize)")
        }
        let loss = model.loss(inputs: inputs, targets: targets)
        let sampler = try makeModel(config: model.config, batchSize: 1, seed: 0)
        sampler.parameters.update(from: model.parameters, count: model.parameterCount)
        let prompt = Array(inputs.prefix(checkPrompt))
        let greedy = Sampling.generate(model: sampler, prompt: prompt, count: checkCount, temperature: 0, topK: 0, seed: 0)
        func list(_ a: [Int32]) -> String { "[" + a.map(String.init).joined(separator: ", ") + "]" }
        let windows = (0..<checkWindows).map { k in list(Array(inputs[k * T ..< (k + 1) * T])) }
        let shifted = (0..<checkWindows).map { k in list(Array(targets[k * T ..< (k + 1) * T])) }
        return "{\n  \"token_file\": \(jsonQuoted(path)),\n  \"loss\": \(Double(loss)),\n"
            + "  \"inputs\": [\n    " + windows.joined(separator: ",\n    ") + "\n  ],\n"
            + "  \"targets\": [\n    " + shifted.joined(separator: ",\n    ") + "\n  ],\n"
            + "  \"prompt\": \(list(prompt)),\n  \"greedy\": \(list(greedy))\n}\n"
    }
}
