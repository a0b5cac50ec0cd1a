import ArgumentParser

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sweep", abstract: "(under construction)")
    func run() throws { throw ValidationError("'sweep' is not built yet") }
}
