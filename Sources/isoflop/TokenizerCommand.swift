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
                guard let output else {
                    return print(try prepareCorpus(corpus, vocabSize: vocab, layout: layout, threads: threads) { print($0) }.summary)
                }
                return print(try trainTokenizer(corpus: corpus, layout: layout, vocab: vocab, threads: threads, output: output))
            }
            try checkDistinct(input: input!, output: output!)
            print(try trainTokenizer(input: input!, vocab: vocab, threads: threads, output: output!))
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
            try checkDistinct(input: input, output: output)
            print(try encodeTokenFile(tok, input: input, output: output, threads: threads))
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
            if let bytes = try decodeTokenFile(tok, tokenizer: tokenizer, input: input, output: output) { FileHandle.standardOutput.write(bytes) }
        }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show vocab size, special tokens, the longest tokens, and bytes per token on a file.")
        @Option(help: "tokenizer.json to inspect.") var tokenizer: String
        @Option(help: "A text file to measure bytes per token on.") var file: String?
        @Option(help: "How many of the longest tokens to show.") var top = 20

        func run() throws {
            let tok = try BPETokenizer.load(from: tokenizer)
            print(try inspectTokenizer(tok, top: top, file: file).joined(separator: "\n"))
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
            try benchmarkTokenizer(corpus: corpus, layout: layout, vocabs: vocab.split(separator: ",").compactMap { Int($0) },
                                   threads: threads.split(separator: ",").compactMap { Int($0) }) { print($0) }
        }
    }
}
