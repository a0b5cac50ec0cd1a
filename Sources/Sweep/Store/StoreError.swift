// Errors of the store that are not plain SQLite or PostgreSQL errors, each naming the file or
// URL (password hidden), the sweep or the run.
import Foundation

/// Errors of the store that are not plain SQLite or PostgreSQL errors.
public enum StoreError: Error, CustomStringConvertible, Equatable {
    /// `path` is the file, or the database URL with any password hidden.
    case newerSchema(path: String, found: Int, known: Int)
    case notADatabase(path: String, message: String)
    case sweepConflict(name: String, message: String)
    case unknownSweep(String)
    /// A command that reads one sweep's results was not told which, and the store holds several.
    case whichSweep(names: [String])
    case noSweep
    case unsupportedURL(String)
    case notOwner(run: Int64, worker: String)
    /// The database server could not be reached or refused the connection.
    case cannotConnect(url: String, host: String, port: String, message: String)
    /// A run's column holds a value this isoflop does not know.
    case badColumn(column: String, value: String)

    public var description: String {
        switch self {
        case let .newerSchema(path, found, known):
            return "\(path): run store schema version \(found) is newer than this isoflop knows (\(known)); use a newer isoflop. Nothing was changed."
        case let .notADatabase(path, message):
            return "\(path): not a run store (\(message)); the file was left untouched"
        case let .sweepConflict(name, message):
            return "sweep '\(name)': \(message)"
        case let .unsupportedURL(url):
            return "run store '\(url)': unknown kind of store; supported: sqlite:PATH (or a plain path), postgresql://user@host:port/db (or postgres://)"
        case let .unknownSweep(name):
            return "no sweep named '\(name)' in the store"
        case let .whichSweep(names):
            return "the store holds \(names.count) sweeps (\(names.joined(separator: ", "))); name one with --sweep"
        case .noSweep:
            return "the store holds no sweep yet; plan one with `isoflop sweep plan` or `sweep run`"
        case let .notOwner(run, worker):
            return "run \(run) is no longer leased to worker \(worker) (its lease expired and another worker took it)"
        case let .cannotConnect(url, host, port, message):
            return "run store \(url): cannot connect to \(host):\(port): \(message)"
        case let .badColumn(column, value):
            return "the store's runs hold \(column) = '\(value)', which this isoflop does not know; use a newer isoflop"
        }
    }
}
