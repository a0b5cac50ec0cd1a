// The one reading of a run store's URL: `sqlite:PATH` or a plain path (SQLite), `postgresql://…`
// or `postgres://…` (PostgreSQL, any libpq URL parameters); anything else is no store.
import Foundation

public enum StoreURL: Equatable, Sendable {
    case sqlite(path: String)
    case postgres(url: String)
    /// Another scheme, or an SQLite name that would open a private database which vanishes on
    /// close ("", ":memory:", "file:…"): runs trained into it would be lost.
    case unsupported(String)

    public init(_ url: String) {
        let lower = url.lowercased()
        if lower.hasPrefix("postgresql://") || lower.hasPrefix("postgres://") {
            self = .postgres(url: url)
        } else if url.contains("://") {
            self = .unsupported(url)
        } else {
            let path = url.hasPrefix("sqlite:") ? String(url.dropFirst("sqlite:".count)) : url
            self = path.isEmpty || path == ":memory:" || path.hasPrefix("file:") ? .unsupported(url) : .sqlite(path: path)
        }
    }

    /// The SQLite file's path; nil for a server store.
    public var sqlitePath: String? {
        if case .sqlite(let path) = self { return path }
        return nil
    }

    /// Whether the URL names an SQLite file (a name SQLite cannot keep counts too: opening it
    /// reports why).
    public static func isSQLite(_ url: String) -> Bool { url.hasPrefix("sqlite:") || !url.contains("://") }

    /// `sqlite:PATH` → PATH; any other URL as it is.
    public static func path(_ url: String) -> String { url.hasPrefix("sqlite:") ? String(url.dropFirst("sqlite:".count)) : url }

    /// Whether the URL holds a password (in its user part or a `password=` parameter), which
    /// must never reach a command line or a printed line.
    public static func hasPassword(_ url: String) -> Bool { redactedStoreURL(url) != url }
}
