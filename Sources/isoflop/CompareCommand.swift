import ArgumentParser

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "compare", abstract: "(under construction)")
    func run() throws { throw ValidationError("'compare' is not built yet") }
}
