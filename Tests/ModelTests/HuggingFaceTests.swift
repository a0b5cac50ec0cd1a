// The Hugging Face GPT-2 export without Python: tensor names and shapes, the Conv1D transposes
// and zero biases, config.json, refused shapes, and GPT-2's forward pass written out here in
// plain loops over the exported tensors giving our model's logits.
import Foundation
import Model
import Tensor
import XCTest

final class HuggingFaceTests: XCTestCase {
    let c = GPTConfig(vocabSize: 11, context: 5, d: 8, layers: 2, headSize: 4)

    func exported(_ model: GPT) throws -> [String: NamedTensor] {
        let tensors = try HuggingFaceGPT2.tensors(parameters: model.parameters, table: model.parameterTable, config: c)
        return Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0) })
    }

    func testNamesShapesAndZeroBiases() throws {
        let model = try GPT(config: c, batchSize: 1, seed: 3)
        let t = try exported(model)
        let d = c.d
        var want: [String: [Int]] = ["transformer.wte.weight": [11, d], "transformer.wpe.weight": [5, d],
                                     "transformer.ln_f.weight": [d], "transformer.ln_f.bias": [d]]
        for i in 0..<2 {
            let h = "transformer.h.\(i)."
            want[h + "ln_1.weight"] = [d]; want[h + "ln_1.bias"] = [d]
            want[h + "ln_2.weight"] = [d]; want[h + "ln_2.bias"] = [d]
            want[h + "attn.c_attn.weight"] = [d, 3 * d]; want[h + "attn.c_attn.bias"] = [3 * d]
            want[h + "attn.c_proj.weight"] = [d, d]; want[h + "attn.c_proj.bias"] = [d]
            want[h + "mlp.c_fc.weight"] = [d, 4 * d]; want[h + "mlp.c_fc.bias"] = [4 * d]
            want[h + "mlp.c_proj.weight"] = [4 * d, d]; want[h + "mlp.c_proj.bias"] = [d]
        }
        XCTAssertEqual(t.mapValues(\.shape), want)
        XCTAssertNil(t["lm_head.weight"], "tied to wte; transformers ties it on load")
        for (name, tensor) in t where name.hasSuffix(".bias") && (name.contains("attn") || name.contains("mlp")) {
            XCTAssertEqual(tensor.values, [Float](repeating: 0, count: tensor.values.count), name)
        }
        // Same total as our parameters plus the biases GPT-2 has and we do not.
        XCTAssertEqual(t.values.reduce(0) { $0 + $1.values.count }, model.parameterCount + 2 * (3 * d + d + 4 * d + d))
    }

    func testLinearWeightsAreTransposedEmbeddingsAndNormsCopied() throws {
        let model = try GPT(config: c, batchSize: 1, seed: 4)
        let t = try exported(model)
        let ours = Dictionary(uniqueKeysWithValues: model.parameterTable.map { ($0.name, $0) })
        func value(_ name: String, _ r: Int, _ col: Int) -> Float {
            let p = ours[name]!
            return model.parameters[p.offset + r * p.shape[1] + col]
        }
        let pairs = [("blocks.1.qkv.weight", "transformer.h.1.attn.c_attn.weight"),
                     ("blocks.0.proj.weight", "transformer.h.0.attn.c_proj.weight"),
                     ("blocks.1.fc.weight", "transformer.h.1.mlp.c_fc.weight"),
                     ("blocks.0.out.weight", "transformer.h.0.mlp.c_proj.weight")]
        for (mine, theirs) in pairs {
            let p = ours[mine]!, e = t[theirs]!
            XCTAssertEqual(e.shape, [p.shape[1], p.shape[0]])
            for r in 0..<p.shape[0] {
                for col in 0..<p.shape[1] {
                    XCTAssertEqual(e.values[col * p.shape[0] + r], value(mine, r, col), "\(theirs)[\(col), \(r)]")
                }
            }
        }
        let wte = ours["wte.weight"]!
        XCTAssertEqual(t["transformer.wte.weight"]!.values, Array(UnsafeBufferPointer(start: model.parameters + wte.offset, count: wte.count)))
        let ln = ours["blocks.1.ln2.bias"]!
        XCTAssertEqual(t["transformer.h.1.ln_2.bias"]!.values, Array(UnsafeBufferPointer(start: model.parameters + ln.offset, count: ln.count)))
    }

    /// GPT-2's forward (Radford et al. 2019; as `transformers`' GPT2Model computes it, Conv1D
    /// x·W + b) over the exported tensors reproduces our logits at every position.
    func testGPT2ForwardOnTheExportMatchesOurLogits() throws {
        let model = try GPT(config: c, batchSize: 1, seed: 5)
        var rng = RNG(seed: 9)
        // Away from the 0.02 init, with non-trivial LayerNorm gains and biases.
        for i in 0..<model.parameterCount { model.parameters[i] += 0.3 * rng.nextNormal() }
        let t = try exported(model)
        let tokens: [Int32] = [3, 10, 0, 7, 7]
        let T = tokens.count, d = c.d, H = c.heads, hs = c.headSize
        func w(_ n: String) -> [Float] { t[n]!.values }
        func conv1d(_ x: [[Float]], _ name: String) -> [[Float]] {
            let W = w(name + ".weight"), b = w(name + ".bias"), n = t[name + ".weight"]!.shape[1]
            return x.map { row in (0..<n).map { j in b[j] + row.indices.reduce(Float(0)) { $0 + row[$1] * W[$1 * n + j] } } }
        }
        func layerNorm(_ x: [[Float]], _ name: String) -> [[Float]] {
            let g = w(name + ".weight"), b = w(name + ".bias")
            return x.map { row in
                let mean = row.reduce(0, +) / Float(row.count)
                let variance = row.reduce(Float(0)) { $0 + ($1 - mean) * ($1 - mean) } / Float(row.count)
                return row.indices.map { (row[$0] - mean) / (variance + 1e-5).squareRoot() * g[$0] + b[$0] }
            }
        }
        func geluNew(_ x: Float) -> Float { 0.5 * x * (1 + tanh((2 / Float.pi).squareRoot() * (x + 0.044715 * x * x * x))) }
        let wte = w("transformer.wte.weight"), wpe = w("transformer.wpe.weight")
        var x = (0..<T).map { p in (0..<d).map { wte[Int(tokens[p]) * d + $0] + wpe[p * d + $0] } }
        for i in 0..<c.layers {
            let h = "transformer.h.\(i)."
            let qkv = conv1d(layerNorm(x, h + "ln_1"), h + "attn.c_attn")
            var att = [[Float]](repeating: [Float](repeating: 0, count: d), count: T)
            for head in 0..<H {
                for q in 0..<T {
                    var scores = (0...q).map { k in
                        (0..<hs).reduce(Float(0)) { $0 + qkv[q][head * hs + $1] * qkv[k][d + head * hs + $1] } / Float(hs).squareRoot()
                    }
                    let m = scores.max()!
                    scores = scores.map { exp($0 - m) }
                    let z = scores.reduce(0, +)
                    for k in 0...q {
                        for j in 0..<hs { att[q][head * hs + j] += scores[k] / z * qkv[k][2 * d + head * hs + j] }
                    }
                }
            }
            let a = conv1d(att, h + "attn.c_proj")
            x = x.indices.map { p in x[p].indices.map { x[p][$0] + a[p][$0] } }
            let f = conv1d(conv1d(layerNorm(x, h + "ln_2"), h + "mlp.c_fc").map { $0.map(geluNew) }, h + "mlp.c_proj")
            x = x.indices.map { p in x[p].indices.map { x[p][$0] + f[p][$0] } }
        }
        let final = layerNorm(x, "transformer.ln_f")
        for p in 0..<T {
            let theirs = (0..<c.vocabSize).map { v in (0..<d).reduce(Float(0)) { $0 + final[p][$1] * wte[v * d + $1] } }
            let ours = model.nextTokenLogits(Array(tokens[0...p]))
            for v in 0..<c.vocabSize { XCTAssertEqual(theirs[v], ours[v], accuracy: 1e-4, "position \(p), token \(v)") }
        }
    }

    func testConfigJSONForGPT2LMHeadModel() throws {
        let text = try HuggingFaceGPT2.configJSON(c, endOfText: 10)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        XCTAssertEqual(json["architectures"] as? [String], ["GPT2LMHeadModel"])
        XCTAssertEqual(json["model_type"] as? String, "gpt2")
        XCTAssertEqual(json["activation_function"] as? String, "gelu_new")
        XCTAssertEqual(json["layer_norm_epsilon"] as? Double, 1e-5)
        XCTAssertEqual(json["tie_word_embeddings"] as? Bool, true)
        for (key, value) in [("n_embd", 8), ("n_layer", 2), ("n_head", 2), ("n_positions", 5), ("vocab_size", 11),
                             ("n_inner", 32), ("eos_token_id", 10), ("bos_token_id", 10)] {
            XCTAssertEqual(json[key] as? Int, value, key)
        }
        for key in ["resid_pdrop", "embd_pdrop", "attn_pdrop"] { XCTAssertEqual(json[key] as? Double, 0, key) }
    }

    func testShapesGPT2CannotExpressAreRefused() {
        let odd = GPTConfig(vocabSize: 11, context: 5, d: 48, layers: 1, headSize: 32)
        XCTAssertThrowsError(try HuggingFaceGPT2.configJSON(odd, endOfText: 0)) {
            XCTAssertEqual($0 as? HuggingFaceGPT2.ExportError,
                           .inexpressible("head size 32 does not divide d = 48; GPT-2's heads are n_embd / n_head wide"))
        }
        XCTAssertNoThrow(try HuggingFaceGPT2.check(GPTConfig(vocabSize: 11, context: 5, d: 48, layers: 1, headSize: 48)))
    }

    func testSafetensorsCarryTheFormatPyTorchExpects() throws {
        let model = try GPT(config: c, batchSize: 1, seed: 6)
        let path = NSTemporaryDirectory() + "hf-\(UUID().uuidString).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let tensors = try HuggingFaceGPT2.tensors(parameters: model.parameters, table: model.parameterTable, config: c)
        try Safetensors.write(tensors: tensors, metadata: ["format": "pt"], to: path)
        let back = try Safetensors.read(from: path)
        XCTAssertEqual(back.metadata, ["format": "pt"])
        XCTAssertEqual(back.tensors, tensors)
    }
}
