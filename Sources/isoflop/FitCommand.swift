import ArgumentParser

struct FitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fit", abstract: "(under construction)")
    func run() throws { throw ValidationError("'fit' is not built yet") }
}
