import ArgumentParser

/// The command-line front end. Libraries return values and throw typed errors; only this
/// target parses arguments and prints for people.
@main
struct Isoflop: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "isoflop",
        abstract: "A miniature transformer training lab for Chinchilla-style IsoFLOP sweeps.",
        subcommands: [
            TrainCommand.self, SampleCommand.self, BenchCommand.self,
            CorpusCommand.self, TokenizerCommand.self,
            SweepCommand.self, ExportCommand.self, CompareCommand.self,
            FitCommand.self, ReportCommand.self, ReproduceCommand.self,
        ])
}
