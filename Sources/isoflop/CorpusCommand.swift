// `isoflop corpus build|add|list`: the built-in corpora and user corpora under the data folder.
import ArgumentParser
import Foundation
import Corpus

struct CorpusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corpus", abstract: "Build the built-in corpora or register your own text.",
        subcommands: [Build.self, Add.self, List.self])

    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Build a built-in corpus's text (pydocs, gcide) and check its sha256.")
        @Argument(help: "Corpus name: pydocs or gcide.") var name: String
        @Option(help: "Data folder.") var data = "data"
        @Option(help: "Also train a tokenizer of this vocab size and write the token files (0: text only).") var vocab = 0
        @Option(help: "Threads for training and encoding.") var threads = 1

        func run() throws {
            let layout = DataLayout(root: data)
            if vocab > 0 {
                return print(try prepareCorpus(name, vocabSize: vocab, layout: layout, threads: threads) { print($0) }.summary)
            }
            guard let recipe = CorpusRecipe.named(name) else {
                throw ValidationError("'\(name)' is not a built-in corpus (built in: \(CorpusRecipe.builtIn.map(\.name).joined(separator: ", ")))")
            }
            let path = try buildCorpus(recipe, layout: layout)
            print("\(path): \(recipe.bytes) bytes, sha256 \(recipe.sha256)")
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register files or folders of text as a corpus (concatenated, folders in byte order).")
        @Argument(help: "Corpus name (letters, digits, '-', '_').") var name: String
        @Argument(help: "Files or folders.") var paths: [String]
        @Option(help: "Data folder.") var data = "data"
        @Flag(help: "Replace the text of a corpus already registered under NAME (its tokenizers and token files must then be rebuilt).")
        var replace = false

        func validate() throws { if paths.isEmpty { throw ValidationError("give at least one PATH") } }

        func run() throws {
            let m = try addCorpus(name, paths: paths, layout: DataLayout(root: data), replace: replace)
            print("corpus \(m.name): \(m.sources.count) files, \(m.bytes) bytes, sha256 \(m.sha256)")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the known corpora.")
        @Option(help: "Data folder.") var data = "data"

        func run() throws {
            let layout = DataLayout(root: data)
            for name in knownCorpora(layout: layout) {
                let built = FileManager.default.fileExists(atPath: layout.corpusText(name)) ? "built" : "not built"
                print("\(name)\t\(built)\t\(CorpusRecipe.named(name)?.summary ?? "user corpus")")
            }
        }
    }
}
