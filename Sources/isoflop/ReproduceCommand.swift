import ArgumentParser

struct ReproduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reproduce", abstract: "(under construction)")
    func run() throws { throw ValidationError("'reproduce' is not built yet") }
}
