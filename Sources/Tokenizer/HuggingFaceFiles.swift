// The files beside `tokenizer.json` that `transformers`' AutoTokenizer reads: which tokenizer
// class to build and which token is GPT-2's <|endoftext|> (its bos, eos and unk).
import Foundation
import Tensor

extension BPETokenizer {
    /// `tokenizer_config.json` and `special_tokens_map.json` for a GPT-2-style fast tokenizer
    /// over this `tokenizer.json`, with `<|endoftext|>` as beginning, end and unknown token, and
    /// `context` as the longest input. Nil when the tokenizer has no `<|endoftext|>`.
    public func huggingFaceFiles(context: Int) -> (tokenizerConfig: String, specialTokensMap: String)? {
        guard endOfTextId != nil else { return nil }
        let eot = jsonQuoted(Self.endOfText)
        let map = "{\n  \"bos_token\": \(eot),\n  \"eos_token\": \(eot),\n  \"unk_token\": \(eot)\n}\n"
        let config = """
            {
              "tokenizer_class": "GPT2TokenizerFast",
              "model_max_length": \(context),
              "add_prefix_space": false,
              "add_bos_token": false,
              "clean_up_tokenization_spaces": false,
              "bos_token": \(eot),
              "eos_token": \(eot),
              "unk_token": \(eot)
            }

            """
        return (config, map)
    }
}
