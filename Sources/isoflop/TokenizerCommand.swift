// `isoflop tokenizer train|encode|decode|inspect|bench`: the byte-level BPE from the command line.
import ArgumentParser
import Foundation
import Corpus
import Tokenizer

struct TokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer", abstract: "Train, apply and inspect byte-level BPE tokenizers.",
        subcommands: [Train.self, Encode.self, Decode.self, Inspect.self, Bench.self])

    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Train a tokenizer on a corpus (its train split) or on a file.")
        @Option(help: "Corpus name; trains on its train split and writes the layout's tokenizer.json.") var corpus: String?
        @Option(help: "A text file to train on (all of it) instead of a corpus.") var input: String?
        @Option(help: "Vocabulary size, including 256 bytes and <|endoftext|>.") var vocab = 2048
        @Option(help: "Threads for counting words.") var threads = 1
        @Option(help: "Where to write tokenizer.json (required with --input).") var output: String?
        @Option(help: "Data folder.") var data = "data"

        func validate() throws {
            if (corpus == nil) == (input == nil) { throw ValidationError("give exactly one of --corpus and --input") }
            if input != nil && output == nil { throw ValidationError("--input needs --output") }
            if !(1...256).contains(threads) { throw ValidationError("--threads \(threads) must be in 1...256") }
        }

        func run() throws {
            if let corpus {
                let layout = DataLayout(root: data)
                if output == nil {
                    let p = try prepareCorpus(corpus, vocabSize: vocab, layout: layout, threads: threads) { print($0) }
                    printPrepared(p)
                    return
                }
                let t0 = Date()
                let text = try readFile(layout.corpusText(corpus))
                let cut = text.withUnsafeBufferPointer { validationStart($0.baseAddress!, count: $0.count) }
                let tok = try text.withUnsafeBufferPointer {
                    try BPETokenizer.train($0.baseAddress!, count: cut, vocabSize: vocab, threads: threads, source: corpus)
                }
                try tok.checkReached(vocab, source: "corpus \(corpus) (\(cut) bytes in its train split)")
                try tok.save(to: output!)
                print("trained \(tok.vocabSize) tokens (\(tok.merges.count) merges) in \(seconds(t0)) s -> \(output!)")
                return
            }
            let t0 = Date()
            try checkDistinct(input: input!, output: output!)
            let text = try readFile(input!)
            let tok = try BPETokenizer.train(text, vocabSize: vocab, threads: threads, source: input!)
            try tok.checkReached(vocab, source: "\(input!) (\(text.count) bytes)")
            try tok.save(to: output!)
            print("trained \(tok.vocabSize) tokens (\(tok.merges.count) merges) in \(seconds(t0)) s -> \(output!)")
        }
    }

    struct Encode: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Encode a text file into a uint16 token file (streaming).")
        @Option(help: "tokenizer.json to use.") var tokenizer: String
        @Option(help: "Text file to encode.") var input: String
        @Option(help: "Token file to write (little-endian uint16).") var output: String
        @Option(help: "Threads.") var threads = 1

        func validate() throws {
            guard (1...256).contains(threads) else { throw ValidationError("--threads \(threads) must be in 1...256") }
        }

        func run() throws {
            let tok = try BPETokenizer.load(from: tokenizer)
            let t0 = Date()
            try checkDistinct(input: input, output: output)
            let n = try tok.encodeFile(input: input, output: output, threads: threads)
            let bytes = (try FileManager.default.attributesOfItem(atPath: input)[.size] as? NSNumber)?.intValue ?? 0
            let dt = Date().timeIntervalSince(t0)
            print("\(n) tokens, \(fmt(Double(bytes) / Double(max(n, 1)))) bytes/token, \(fmt(Double(bytes) / dt / 1e6)) MB/s -> \(output)")
        }
    }

    struct Decode: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Decode a uint16 token file back to bytes.")
        @Option(help: "tokenizer.json to use.") var tokenizer: String
        @Option(help: "Token file (little-endian uint16).") var input: String
        @Option(help: "Where to write the bytes (standard output if absent).") var output: String?

        func run() throws {
            let tok = try BPETokenizer.load(from: tokenizer)
            if let output { try checkDistinct(input: input, output: output) }
            let bytes: [UInt8]
            do { bytes = try tok.decode(try TokenFile.read(input).map(Int.init)) } catch let e as TokenizerError {
                // The decoder knows the position, not the file: both go into the line.
                throw CLIError("\(input): \(e.description) (tokenizer \(tokenizer))")
            }
            if let output {
                do { try Data(bytes).write(to: URL(fileURLWithPath: output)) } catch {
                    throw CLIError("cannot write \(output): \(error.localizedDescription)")
                }
            } else {
                FileHandle.standardOutput.write(Data(bytes))
            }
        }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show vocab size, special tokens, the longest tokens, and bytes per token on a file.")
        @Option(help: "tokenizer.json to inspect.") var tokenizer: String
        @Option(help: "A text file to measure bytes per token on.") var file: String?
        @Option(help: "How many of the longest tokens to show.") var top = 20

        func run() throws {
            let tok = try BPETokenizer.load(from: tokenizer)
            print("vocab size   \(tok.vocabSize) (\(tok.merges.count) merges)")
            for s in tok.specialTokens { print("special      \(s.content) = \(s.id)") }
            let longest = tok.vocab.indices.filter { id in !tok.specialTokens.contains { $0.id == id } }
                .sorted { (tok.vocab[$0].count, $1) > (tok.vocab[$1].count, $0) }.prefix(top)
            print("longest tokens:")
            for id in longest {
                print("  \(id)\t\(tok.vocab[id].count) bytes\t\(String(reflecting: String(decoding: tok.vocab[id], as: UTF8.self)))")
            }
            if let file {
                let text = try readFile(file)
                let n = tok.encodeUInt16(text, threads: 1).count
                print("\(file): \(text.count) bytes, \(n) tokens, \(fmt(Double(text.count) / Double(max(n, 1)))) bytes/token")
            }
        }
    }

    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Time training and encoding on a corpus; print speeds and peak memory.")
        @Option(help: "Corpus name (built if missing).") var corpus = "pydocs"
        @Option(help: "Vocabulary sizes, comma-separated.") var vocab = "2048"
        @Option(help: "Thread counts, comma-separated.") var threads = "1,2"
        @Option(help: "Data folder.") var data = "data"

        func run() throws {
            let layout = DataLayout(root: data)
            if !FileManager.default.fileExists(atPath: layout.corpusText(corpus)) {
                guard let recipe = CorpusRecipe.named(corpus) else {
                    throw ValidationError("corpus '\(corpus)' is not built; run 'isoflop corpus add' or 'corpus build'")
                }
                try buildCorpus(recipe, layout: layout)
            }
            let text = try readFile(layout.corpusText(corpus))
            let mb = Double(text.count) / 1e6
            let vocabs = vocab.split(separator: ",").compactMap { Int($0) }
            let threadCounts = threads.split(separator: ",").compactMap { Int($0) }
            print("corpus \(corpus): \(text.count) bytes (whole text, as the Hugging Face figures)")
            for v in vocabs {
                var tok: BPETokenizer? = nil
                for t in threadCounts {
                    let t0 = Date()
                    tok = try BPETokenizer.train(text, vocabSize: v, threads: t, source: corpus)
                    print("train  V=\(v) threads=\(t): \(seconds(t0)) s")
                }
                guard let tok else { continue }
                for t in threadCounts {
                    let t0 = Date()
                    let n = tok.encodeUInt16(text, threads: t).count
                    let dt = Date().timeIntervalSince(t0)
                    print("encode V=\(v) threads=\(t): \(fmt(mb / dt)) MB/s, \(n) tokens, \(fmt(Double(text.count) / Double(n))) bytes/token")
                }
            }
            print("peak memory (VmHWM): \(peakMemory())")
        }
    }
}

func readFile(_ path: String) throws -> [UInt8] { try InputFile.read(path) }

func fmt(_ x: Double) -> String { String(format: "%.3f", x) }

func seconds(_ t0: Date) -> String { String(format: "%.2f", Date().timeIntervalSince(t0)) }

/// Peak resident memory of this process, from /proc/self/status (Linux).
func peakMemory() -> String {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return "unknown" }
    return line.dropFirst(6).trimmingCharacters(in: .whitespaces)
}
