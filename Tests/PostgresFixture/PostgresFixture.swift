// A throwaway PostgreSQL server for tests: initdb into a temporary folder, pg_ctl start on a
// free loopback port (socket in the same folder), a fresh database per test; stopped and
// deleted when the process exits, even when it is killed.
//
//     let pg = try PostgresFixture.shared()            // XCTSkip when PostgreSQL is not installed
//     let url = try pg.createDatabase("claims")        // postgresql://postgres@127.0.0.1:PORT/claims
import Foundation
import Sweep
import XCTest
#if canImport(Glibc)
import Glibc
#endif

public enum PostgresFixtureError: Error, CustomStringConvertible {
    case command(String, status: Int32, output: String)
    case badName(String)

    public var description: String {
        switch self {
        case let .command(command, status, output):
            return "\(command) exited with \(status): \(output.suffix(800))"
        case let .badName(name):
            return "database name '\(name)': use lower-case letters, digits and _"
        }
    }
}

public final class PostgresFixture {
    /// The folder holding the cluster (data/), its socket and its log.
    public let directory: String
    public let port: Int
    /// The folder of initdb, pg_ctl and postgres.
    public let binaries: String
    var dataDirectory: String { directory + "/data" }
    var stopped = false

    nonisolated(unsafe) static var current: PostgresFixture?
    static let lock = NSLock()
    nonisolated(unsafe) static var databases = 0

    /// The server shared by every test of this process, started on first use. Throws XCTSkip
    /// when the PostgreSQL server binaries are not installed.
    public static func shared() throws -> PostgresFixture {
        lock.lock()
        defer { lock.unlock() }
        if let current { return current }
        guard let bin = serverBinaries() else {
            throw XCTSkip("PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's postgresql package")
        }
        let fixture = try PostgresFixture(binaries: bin)
        current = fixture
        atexit { PostgresFixture.current?.stop() }
        return fixture
    }

    /// Where initdb and pg_ctl are: `pg_config --bindir`, else the newest /usr/lib/postgresql/N/bin.
    public static func serverBinaries() -> String? {
        var candidates: [String] = []
        if let out = try? run("/usr/bin/pg_config", ["--bindir"]) {
            candidates.append(out.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted(by: >)
        candidates += versions.map { "\(root)/\($0)/bin" }
        return candidates.first { dir in
            ["initdb", "pg_ctl", "postgres"].allSatisfy { FileManager.default.isExecutableFile(atPath: "\(dir)/\($0)") }
        }
    }

    /// Starts a new server (most tests want `shared()` instead). As root, the cluster belongs
    /// to the `postgres` user, since PostgreSQL refuses to run as root.
    public init(binaries: String) throws {
        self.binaries = binaries
        var template = Array((NSTemporaryDirectory() as NSString).appendingPathComponent("isoflop-pg-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw PostgresFixtureError.command("mkdtemp", status: errno, output: String(cString: strerror(errno)))
        }
        directory = String(cString: made)
        let owner = getuid() == 0 ? getpwnam("postgres") : nil
        if getuid() == 0 && owner == nil {
            throw XCTSkip("running as root and there is no postgres user to run the server as")
        }
        if let owner {
            // The server must reach its folder: make the temporary path traversable and give it away.
            chmod(directory, 0o755)
            chown(directory, owner.pointee.pw_uid, owner.pointee.pw_gid)
        }
        Self.watch(directory: directory, pgctl: "\(binaries)/pg_ctl", asPostgres: owner != nil)
        var lastError: Error?
        var started: Int?
        try Self.asServerUser("\(binaries)/initdb", ["-D", directory + "/data", "-U", "postgres", "-A", "trust",
                                                 "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"])
        // Another process may take the free port before the server binds it: try a few.
        for _ in 0..<5 where started == nil {
            let candidate = Self.freePort()
            do {
                try Self.asServerUser("\(binaries)/pg_ctl", [
                    "start", "-D", directory + "/data", "-w", "-t", "60", "-l", directory + "/server.log",
                    "-o", "-h 127.0.0.1 -p \(candidate) -k \(directory) -F -c full_page_writes=off -c synchronous_commit=off -c max_connections=200",
                ])
                started = candidate
            } catch {
                lastError = error
            }
        }
        guard let started else {
            try? FileManager.default.removeItem(atPath: directory)
            throw lastError!
        }
        port = started
    }

    /// The URL of database `name` on this server.
    public func url(database name: String) -> String { "postgresql://postgres@127.0.0.1:\(port)/\(name)" }

    /// Creates an empty database (dropping one of that name first) and returns its URL. Names
    /// are lower-case letters, digits and _; a counter is added so that repeated names within
    /// one process stay distinct.
    public func createDatabase(_ name: String) throws -> String {
        guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }) else {
            throw PostgresFixtureError.badName(name)
        }
        Self.lock.lock()
        Self.databases += 1
        let unique = "\(name.prefix(50))_\(Self.databases)"
        Self.lock.unlock()
        let admin = try PostgresConnection(url: url(database: "postgres"))
        // Identifiers cannot be parameters; the name was checked above.
        try admin.execute("DROP DATABASE IF EXISTS \(unique)")
        try admin.execute("CREATE DATABASE \(unique) TEMPLATE template0")
        return url(database: unique)
    }

    /// Stops the server at once and deletes its folder.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        _ = try? Self.asServerUser("\(binaries)/pg_ctl", ["stop", "-D", dataDirectory, "-m", "immediate", "-w"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs a server binary, as the postgres user when this process is root.
    @discardableResult
    static func asServerUser(_ tool: String, _ arguments: [String]) throws -> String {
        if getuid() == 0 { return try Self.run("/usr/sbin/runuser", ["-u", "postgres", "--", tool] + arguments) }
        return try Self.run(tool, arguments)
    }

    /// A loopback port nobody listens on right now (the kernel's pick for port 0).
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        return ok ? Int(UInt16(bigEndian: address.sin_port)) : 55432
    }

    /// A detached shell that stops the server and deletes its folder once this process is gone,
    /// so a test run that is killed leaves no server behind.
    static func watch(directory: String, pgctl: String, asPostgres: Bool) {
        let stop = (asPostgres ? "/usr/sbin/runuser -u postgres -- " : "") + "'\(pgctl)' stop -D '\(directory)/data' -m immediate"
        let script = "while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; \(stop) >/dev/null 2>&1; rm -rf '\(directory)'"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", script]
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try? p.run()
    }

    /// Runs a program to completion and returns its output; a non-zero exit throws. Spawned and
    /// reaped directly, with output through a file: the server that pg_ctl leaves running
    /// inherits the child's descriptors, and Foundation's Process waits on those to close.
    static func run(_ tool: String, _ arguments: [String]) throws -> String {
        let file = (NSTemporaryDirectory() as NSString).appendingPathComponent("isoflop-pg-output-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(atPath: file) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, file, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([tool] + arguments).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid = pid_t()
        let rc = posix_spawn(&pid, tool, &actions, nil, argv, environ)
        guard rc == 0 else {
            throw PostgresFixtureError.command(tool, status: rc, output: String(cString: strerror(rc)))
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let output = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        // WIFEXITED and WEXITSTATUS, which Swift does not import.
        let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        guard exit == 0 else {
            throw PostgresFixtureError.command(([tool] + arguments).joined(separator: " "), status: exit, output: output)
        }
        return output
    }
}
