import ArgumentParser

struct CorpusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "corpus", abstract: "(under construction)")
    func run() throws { throw ValidationError("'corpus' is not built yet") }
}
