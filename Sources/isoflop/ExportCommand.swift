import ArgumentParser

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "(under construction)")
    func run() throws { throw ValidationError("'export' is not built yet") }
}
