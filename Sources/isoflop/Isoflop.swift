import ArgumentParser
import Tensor

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
            SweepCommand.self, WorkerCommand.self, ExportCommand.self, ExportHFCommand.self, CompareCommand.self,
            FitCommand.self, PredictCommand.self, ReportCommand.self, HorizonCommand.self, ReproduceCommand.self, LadderCommand.self, TuneCommand.self,
            StoreBenchCommand.self,
        ])
}

extension Isoflop {
    /// OpenBLAS picks its kernels when it loads; on CPUs it does not recognise it falls back to
    /// slow generic ones, so the program restarts itself once with the right core type before
    /// any command runs (worker processes inherit the setting). Training uses one BLAS thread
    /// unless OPENBLAS_NUM_THREADS or a command's --threads says otherwise.
    static func main() {
        BLAS.selectFastKernelsByRestarting()
        BLAS.setThreads(BLAS.defaultThreads)
        var command: ParsableCommand
        do { command = try parseAsRoot() } catch { exit(withError: error) }
        do { try command.run() } catch { exit(withError: commandLineError(error)) }
    }
}
