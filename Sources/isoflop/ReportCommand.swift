import ArgumentParser

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "report", abstract: "(under construction)")
    func run() throws { throw ValidationError("'report' is not built yet") }
}
