// What `isoflop tokenizer` does beyond a single library call: train on a corpus's train split or
// on a file and say so, encode a file and say how fast, inspect a tokenizer, and time training
// and encoding on a corpus. Each returns (or hands to `say`) the lines people read.
import Foundation
import Tokenizer

extension PreparedCorpus {
    /// Where the prepared tokenizer and token files are, and how many tokens each split has.
    public var summary: String {
        "tokenizer   \(tokenizer)\ntrain       \(train) (\(trainTokens) tokens)\nvalidation  \(validation) (\(validationTokens) tokens)"
    }
}

/// Trains a tokenizer of `vocab` tokens on corpus `corpus`'s train split (the text before its
/// validation cut) and writes it to `output`; returns the line that says so.
public func trainTokenizer(corpus: String, layout: DataLayout, vocab: Int, threads: Int, output: String) throws -> String {
    let t0 = Date()
    let text = try InputFile.read(layout.corpusText(corpus))
    let cut = text.withUnsafeBufferPointer { validationStart($0.baseAddress!, count: $0.count) }
    let tok = try text.withUnsafeBufferPointer {
        try BPETokenizer.train($0.baseAddress!, count: cut, vocabSize: vocab, threads: threads, source: corpus)
    }
    try tok.checkReached(vocab, source: "corpus \(corpus) (\(cut) bytes in its train split)")
    return try save(tok, to: output, since: t0)
}

/// Trains a tokenizer of `vocab` tokens on all of the file `input` and writes it to `output`;
/// returns the line that says so.
public func trainTokenizer(input: String, vocab: Int, threads: Int, output: String) throws -> String {
    let t0 = Date()
    let text = try InputFile.read(input)
    let tok = try BPETokenizer.train(text, vocabSize: vocab, threads: threads, source: input)
    try tok.checkReached(vocab, source: "\(input) (\(text.count) bytes)")
    return try save(tok, to: output, since: t0)
}

private func save(_ tok: BPETokenizer, to output: String, since t0: Date) throws -> String {
    try tok.save(to: output)
    return "trained \(tok.vocabSize) tokens (\(tok.merges.count) merges) in \(seconds(t0)) s -> \(output)"
}

/// Encodes the text file `input` into the token file `output` (streaming); returns the tokens,
/// bytes per token and speed as a line.
public func encodeTokenFile(_ tok: BPETokenizer, input: String, output: String, threads: Int) throws -> String {
    let t0 = Date()
    let n = try tok.encodeFile(input: input, output: output, threads: threads)
    let bytes = (try FileManager.default.attributesOfItem(atPath: input)[.size] as? NSNumber)?.intValue ?? 0
    let dt = Date().timeIntervalSince(t0)
    return "\(n) tokens, \(fmt(Double(bytes) / Double(max(n, 1)))) bytes/token, \(fmt(Double(bytes) / dt / 1e6)) MB/s -> \(output)"
}

/// What decoding a token file refuses: a token the tokenizer lacks (the decoder knows the
/// position, not the file: both go into the line), or an output that cannot be written.
public enum TokenFileDecodeError: Error, CustomStringConvertible, Equatable {
    case badToken(input: String, tokenizer: String, reason: String)
    case unwritable(output: String, reason: String)

    public var description: String {
        switch self {
        case let .badToken(input, tokenizer, reason): return "\(input): \(reason) (tokenizer \(tokenizer))"
        case let .unwritable(output, reason): return "cannot write \(output): \(reason)"
        }
    }
}

/// Decodes the token file `input` with `tok` (loaded from `tokenizer`) and writes the bytes to
/// `output`; without an output, returns them (nil when they were written).
public func decodeTokenFile(_ tok: BPETokenizer, tokenizer: String, input: String, output: String?) throws -> Data? {
    let bytes: [UInt8]
    do { bytes = try tok.decode(try TokenFile.read(input).map(Int.init)) } catch let e as TokenizerError {
        throw TokenFileDecodeError.badToken(input: input, tokenizer: tokenizer, reason: e.description)
    }
    guard let output else { return Data(bytes) }
    do { try Data(bytes).write(to: URL(fileURLWithPath: output)) } catch {
        throw TokenFileDecodeError.unwritable(output: output, reason: error.localizedDescription)
    }
    return nil
}

/// `tokenizer inspect`: the vocabulary size, the special tokens, the `top` longest tokens (ties
/// by id, highest first) and, given a text file, its bytes per token.
public func inspectTokenizer(_ tok: BPETokenizer, top: Int, file: String?) throws -> [String] {
    var lines = ["vocab size   \(tok.vocabSize) (\(tok.merges.count) merges)"]
    lines += tok.specialTokens.map { "special      \($0.content) = \($0.id)" }
    let longest = tok.vocab.indices.filter { id in !tok.specialTokens.contains { $0.id == id } }
        .sorted { (tok.vocab[$0].count, $1) > (tok.vocab[$1].count, $0) }.prefix(top)
    lines.append("longest tokens:")
    for id in longest {
        lines.append("  \(id)\t\(tok.vocab[id].count) bytes\t\(String(reflecting: String(decoding: tok.vocab[id], as: UTF8.self)))")
    }
    if let file {
        let text = try InputFile.read(file)
        let n = tok.encodeUInt16(text, threads: 1).count
        lines.append("\(file): \(text.count) bytes, \(n) tokens, \(fmt(Double(text.count) / Double(max(n, 1)))) bytes/token")
    }
    return lines
}

/// `tokenizer bench`: trains at each vocabulary size with each thread count, then encodes the
/// whole text with each thread count, saying every time and the peak memory through `say`.
public func benchmarkTokenizer(corpus: String, layout: DataLayout, vocabs: [Int], threads: [Int], say: (String) -> Void) throws {
    let text = try InputFile.read(layout.corpusText(corpus))
    let mb = Double(text.count) / 1e6
    say("corpus \(corpus): \(text.count) bytes (whole text, as the Hugging Face figures)")
    for v in vocabs {
        var tok: BPETokenizer? = nil
        for t in threads {
            let t0 = Date()
            tok = try BPETokenizer.train(text, vocabSize: v, threads: t, source: corpus)
            say("train  V=\(v) threads=\(t): \(seconds(t0)) s")
        }
        guard let tok else { continue }
        for t in threads {
            let t0 = Date()
            let n = tok.encodeUInt16(text, threads: t).count
            let dt = Date().timeIntervalSince(t0)
            say("encode V=\(v) threads=\(t): \(fmt(mb / dt)) MB/s, \(n) tokens, \(fmt(Double(text.count) / Double(n))) bytes/token")
        }
    }
    say("peak memory (VmHWM): \(peakMemory())")
}

private func fmt(_ x: Double) -> String { String(format: "%.3f", x) }

private func seconds(_ t0: Date) -> String { String(format: "%.2f", Date().timeIntervalSince(t0)) }

/// Peak resident memory of this process, from /proc/self/status (Linux).
func peakMemory() -> String {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return "unknown" }
    return line.dropFirst(6).trimmingCharacters(in: .whitespaces)
}
