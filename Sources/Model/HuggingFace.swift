// gpt-mini as Hugging Face's GPT2LMHeadModel: its config.json and its tensors under GPT-2's names
// and layouts, so `transformers` loads an exported checkpoint with no custom code.
import Foundation

/// GPT-2 in `transformers` is gpt-mini with biases on every linear layer: the same pre-LN blocks,
/// fused [q | k | v] projection split into heads the same way, scores scaled by 1/√(head size),
/// GELU in its tanh form (`gelu_new`), LayerNorm with ε = 1e-5 over the biased variance, learned
/// positions, and the output projection tied to the token embedding. Its `Conv1D` layers store
/// weights as (in, out) and compute x·W + b, where ours store (out, in) and compute x·Wᵀ, so every
/// linear weight is transposed on the way out and its bias is zero.
public enum HuggingFaceGPT2 {
    /// Why a model cannot be written as GPT-2.
    public enum ExportError: Error, CustomStringConvertible, Equatable {
        case inexpressible(String)
        /// The output folder holds files that an export did not write.
        case foreignFolder(path: String, entries: [String])

        public var description: String {
            switch self {
            case .inexpressible(let why): return "cannot export as GPT-2: \(why)"
            case .foreignFolder(let path, let entries):
                return "\(path) is not empty and not an earlier export (it holds \(entries.prefix(5).joined(separator: ", "))"
                    + (entries.count > 5 ? " and \(entries.count - 5) more" : "") + "); name an empty or new folder, or give --force"
            }
        }
    }

    /// The files an export writes (`isoflop-check.json` only with a check).
    public static let exportFiles: Set<String> = ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                                                  "special_tokens_map.json", "isoflop-check.json"]

    /// Throws unless `dir` is missing, empty, or an earlier export: nothing in it but the files
    /// an export writes (and the temporary files of one that was stopped), its config.json
    /// GPT-2's. A folder that also holds a user's files is never written into and left mixed.
    public static func checkExportFolder(_ dir: String) throws {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return }
        func ours(_ name: String) -> Bool {
            if exportFiles.contains(name) { return true }
            // Safetensors.writeAtomically's temporary files: NAME.tmp-PID.
            guard let range = name.range(of: ".tmp-") else { return false }
            return exportFiles.contains(String(name[..<range.lowerBound])) && name[range.upperBound...].allSatisfy(\.isNumber)
        }
        var foreign = entries.filter { !ours($0) }.sorted()
        if entries.contains("config.json") {
            let data = FileManager.default.contents(atPath: (dir as NSString).appendingPathComponent("config.json"))
            let object = data.flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
            if object?["model_type"] as? String != "gpt2" { foreign.insert("config.json (not GPT-2's)", at: 0) }
        }
        guard foreign.isEmpty else { throw ExportError.foreignFolder(path: dir, entries: foreign) }
    }

    /// Checks that GPT-2 can express the shape: it derives the head size as n_embd / n_head, and
    /// its MLP width is fixed here at 4·n_embd (n_inner).
    public static func check(_ c: GPTConfig) throws {
        guard c.headSize >= 1, c.d % c.headSize == 0, c.heads * c.headSize == c.d else {
            throw ExportError.inexpressible("head size \(c.headSize) does not divide d = \(c.d); GPT-2's heads are n_embd / n_head wide")
        }
        guard c.ffw == 4 * c.d else {
            throw ExportError.inexpressible("MLP width \(c.ffw) is not 4·d = \(4 * c.d)")
        }
        guard c.layers >= 1, c.context >= 1, c.vocabSize >= 1 else {
            throw ExportError.inexpressible("shape \(c) has an empty dimension")
        }
    }

    /// `config.json` for `GPT2LMHeadModel`. `endOfText` is the id of `<|endoftext|>`, GPT-2's
    /// beginning- and end-of-sequence token. Dropout is zero: the export is for inference.
    public static func configJSON(_ c: GPTConfig, endOfText: Int) throws -> String {
        try check(c)
        let fields: [(String, String)] = [
            ("architectures", "[\"GPT2LMHeadModel\"]"), ("model_type", "\"gpt2\""),
            ("vocab_size", "\(c.vocabSize)"), ("n_positions", "\(c.context)"), ("n_ctx", "\(c.context)"),
            ("n_embd", "\(c.d)"), ("n_layer", "\(c.layers)"), ("n_head", "\(c.heads)"), ("n_inner", "\(c.ffw)"),
            ("activation_function", "\"gelu_new\""), ("layer_norm_epsilon", "1e-05"),
            ("resid_pdrop", "0.0"), ("embd_pdrop", "0.0"), ("attn_pdrop", "0.0"), ("initializer_range", "0.02"),
            ("scale_attn_weights", "true"), ("scale_attn_by_inverse_layer_idx", "false"),
            ("reorder_and_upcast_attn", "false"), ("tie_word_embeddings", "true"),
            ("bos_token_id", "\(endOfText)"), ("eos_token_id", "\(endOfText)"),
            ("use_cache", "true"), ("torch_dtype", "\"float32\""),
        ]
        return "{\n" + fields.map { "  \"\($0.0)\": \($0.1)" }.joined(separator: ",\n") + "\n}\n"
    }

    /// GPT-2's name for one of our linear weights (transposed on export), or nil.
    static func linearName(_ ours: String) -> String? {
        let parts = ours.split(separator: ".")
        guard parts.count == 4, parts[0] == "blocks", parts[3] == "weight" else { return nil }
        let sub: String
        switch parts[2] {
        case "qkv": sub = "attn.c_attn"
        case "proj": sub = "attn.c_proj"
        case "fc": sub = "mlp.c_fc"
        case "out": sub = "mlp.c_proj"
        default: return nil
        }
        return "transformer.h.\(parts[1]).\(sub).weight"
    }

    /// GPT-2's name for one of our embeddings or LayerNorm tensors (copied as they are), or nil.
    static func plainName(_ ours: String) -> String? {
        switch ours {
        case "wte.weight", "wpe.weight": return "transformer." + ours
        case "lnf.weight", "lnf.bias": return "transformer.ln_f." + ours.split(separator: ".")[1]
        default: break
        }
        let parts = ours.split(separator: ".")
        guard parts.count == 4, parts[0] == "blocks", parts[2] == "ln1" || parts[2] == "ln2" else { return nil }
        return "transformer.h.\(parts[1]).ln_\(parts[2].last!).\(parts[3])"
    }

    /// The model's tensors under GPT-2's names, in our table's order: linear weights (out, in)
    /// become (in, out) followed by a zero bias of length out; `lm_head.weight` is left out (tied
    /// to `transformer.wte.weight`, as `transformers` saves it).
    public static func tensors(parameters: UnsafePointer<Float>, table: [ParameterInfo], config: GPTConfig) throws -> [NamedTensor] {
        try check(config)
        var out: [NamedTensor] = []
        for t in table {
            let src = UnsafeBufferPointer(start: parameters + t.offset, count: t.count)
            if let name = plainName(t.name) {
                out.append(NamedTensor(name: name, shape: t.shape, values: Array(src)))
            } else if let name = linearName(t.name), t.shape.count == 2 {
                let (rows, cols) = (t.shape[0], t.shape[1])
                var transposed = [Float](repeating: 0, count: t.count)
                for r in 0..<rows {
                    for c in 0..<cols { transposed[c * rows + r] = src[r * cols + c] }
                }
                out.append(NamedTensor(name: name, shape: [cols, rows], values: transposed))
                out.append(NamedTensor(name: String(name.dropLast("weight".count)) + "bias", shape: [rows],
                                       values: [Float](repeating: 0, count: rows)))
            } else {
                throw ExportError.inexpressible("tensor \(t.name) \(t.shape) has no GPT-2 counterpart")
            }
        }
        return out
    }
}
