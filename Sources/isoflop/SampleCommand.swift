import ArgumentParser

struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sample", abstract: "(under construction)")
    func run() throws { throw ValidationError("'sample' is not built yet") }
}
