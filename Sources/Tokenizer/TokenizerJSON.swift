// Reading and writing `tokenizer.json` in the Hugging Face `tokenizers` format for byte-level
// BPE: model BPE (vocab of byte-to-unicode strings, merges as string pairs), ByteLevel
// pre-tokenizer and decoder, special tokens under `added_tokens`.
import Foundation
import Tensor

/// GPT-2's reversible map from bytes to printable characters: printable Latin-1 bytes map to
/// themselves, the other 68 bytes to U+0100 onwards in byte order.
let byteToUnicode: [Character] = {
    var printable = Set<Int>()
    for r in [0x21...0x7E, 0xA1...0xAC, 0xAE...0xFF] { for b in r { printable.insert(b) } }
    var out = [Character](repeating: " ", count: 256)
    var next = 256
    for b in 0..<256 {
        if printable.contains(b) { out[b] = Character(Unicode.Scalar(UInt32(b))!) }
        else { out[b] = Character(Unicode.Scalar(UInt32(next))!); next += 1 }
    }
    return out
}()

let unicodeToByte: [Character: UInt8] = {
    var d = [Character: UInt8]()
    for (b, c) in byteToUnicode.enumerated() { d[c] = UInt8(b) }
    return d
}()

func tokenString(_ bytes: [UInt8]) -> String { String(bytes.map { byteToUnicode[Int($0)] }) }

extension BPETokenizer {
    /// The tokenizer as `tokenizer.json` text (deterministic: same tokenizer, same bytes).
    public func jsonString() -> String {
        let specialIds = Set(specialTokens.map(\.id))
        var s = "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": ["
        for (k, t) in specialTokens.enumerated() {
            s += k == 0 ? "\n" : ",\n"
            s += "    {\"id\": \(t.id), \"content\": \(jsonQuoted(t.content)), \"single_word\": false, \"lstrip\": false, "
            s += "\"rstrip\": false, \"normalized\": false, \"special\": true}"
        }
        s += "\n  ],\n  \"normalizer\": null,\n"
        s += "  \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": true},\n"
        s += "  \"post_processor\": null,\n"
        s += "  \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"trim_offsets\": true, \"use_regex\": true},\n"
        s += "  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": null,\n"
        s += "    \"continuing_subword_prefix\": null,\n    \"end_of_word_suffix\": null,\n    \"fuse_unk\": false,\n"
        s += "    \"byte_fallback\": false,\n    \"ignore_merges\": false,\n    \"vocab\": {"
        var first = true
        for (id, bytes) in vocab.enumerated() {
            let text = specialIds.contains(id) ? String(decoding: bytes, as: UTF8.self) : tokenString(bytes)
            s += first ? "\n      " : ",\n      "
            first = false
            s += "\(jsonQuoted(text)): \(id)"
        }
        s += "\n    },\n    \"merges\": ["
        for (k, m) in merges.enumerated() {
            s += k == 0 ? "\n      " : ",\n      "
            s += "[\(jsonQuoted(tokenString(vocab[m.left]))), \(jsonQuoted(tokenString(vocab[m.right])))]"
        }
        s += "\n    ]\n  }\n}\n"
        return s
    }

    public func jsonData() -> [UInt8] { Array(jsonString().utf8) }

    /// sha256 of the `tokenizer.json` bytes; token file sidecars record it.
    public var fingerprint: String { SHA256.hex(jsonData()) }

    public func save(to path: String) throws {
        let url = URL(fileURLWithPath: path)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(jsonData()).write(to: url, options: .atomic)
        } catch {
            throw TokenizerError.io(path: path, reason: "cannot write: \(error.localizedDescription)")
        }
    }

    /// Loads a byte-level BPE `tokenizer.json` (ours, or one saved by Hugging Face `tokenizers`).
    public static func load(from path: String) throws -> BPETokenizer {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TokenizerError.io(path: path, reason: "cannot read")
        }
        return try parse(Array(data), source: path)
    }

    public static func parse(_ bytes: [UInt8], source: String = "tokenizer.json") throws -> BPETokenizer {
        func fail(_ why: String) -> TokenizerError { .notATokenizer(path: source, reason: why) }
        guard let root = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw fail("not a JSON object")
        }
        guard let model = root["model"] as? [String: Any] else { throw fail("no \"model\" section") }
        guard (model["type"] as? String) == "BPE" else { throw fail("model type is \(model["type"] ?? "missing"), not BPE") }
        guard let pre = root["pre_tokenizer"] as? [String: Any], (pre["type"] as? String) == "ByteLevel" else {
            throw fail("pre_tokenizer is not ByteLevel")
        }
        guard let vocabObject = model["vocab"] as? [String: Any] else { throw fail("no model.vocab") }
        var specials = [SpecialToken]()
        for t in (root["added_tokens"] as? [[String: Any]]) ?? [] {
            guard let id = (t["id"] as? NSNumber)?.intValue, let content = t["content"] as? String else {
                throw fail("an added token lacks id or content")
            }
            specials.append(SpecialToken(content: content, id: id))
        }
        let specialIds = Dictionary(specials.map { ($0.id, $0.content) }, uniquingKeysWith: { a, _ in a })
        var vocab = [[UInt8]?](repeating: nil, count: vocabObject.count)
        var idOfString = [String: Int]()
        for (text, value) in vocabObject {
            guard let id = (value as? NSNumber)?.intValue, id >= 0, id < vocab.count, vocab[id] == nil else {
                throw fail("vocab ids are not 0..<\(vocab.count), each once (at \(jsonQuoted(text)))")
            }
            idOfString[text] = id
            if let content = specialIds[id] { vocab[id] = Array(content.utf8); continue }
            var bytes = [UInt8]()
            for ch in text {
                guard let b = unicodeToByte[ch] else { throw fail("vocab entry \(jsonQuoted(text)) is not byte-level") }
                bytes.append(b)
            }
            vocab[id] = bytes
        }
        var merges = [Merge]()
        for (r, entry) in ((model["merges"] as? [Any]) ?? []).enumerated() {
            let parts: [String]
            if let pair = entry as? [String] { parts = pair }
            else if let line = entry as? String { parts = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init) }
            else { throw fail("merge \(r) is neither a pair nor a string") }
            guard parts.count == 2, let l = idOfString[parts[0]], let rt = idOfString[parts[1]],
                  let res = idOfString[parts[0] + parts[1]] else {
                throw fail("merge \(r) names tokens missing from the vocab")
            }
            merges.append(Merge(left: l, right: rt, result: res))
        }
        return try BPETokenizer(vocab: vocab.map { $0 ?? [] }, merges: merges, specialTokens: specials, source: source)
    }
}
