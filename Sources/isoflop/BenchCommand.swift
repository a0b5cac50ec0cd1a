import ArgumentParser

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "(under construction)")
    func run() throws { throw ValidationError("'bench' is not built yet") }
}
