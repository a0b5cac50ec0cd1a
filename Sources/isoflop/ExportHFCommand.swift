// `isoflop export-hf`: a checkpoint as a Hugging Face folder (GPT2LMHeadModel config, weights
// under GPT-2's names, tokenizer files) that `transformers` loads with no custom code.
import ArgumentParser
import Foundation
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
        var options = HuggingFaceExportOptions()
        options.tokenizer = tokenizer
        options.checkTokens = checkTokens
        options.checkWindows = checkWindows
        options.checkPrompt = checkPrompt
        options.checkCount = checkCount
        options.force = force
        print(try exportHuggingFace(checkpoint: checkpoint, to: dir, options: options))
    }
}
