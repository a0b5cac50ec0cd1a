// What the command-line tests share: the package root and the isoflop binary built beside them.
import Foundation
import XCTest

enum CLI {
    /// The package root (this file is Tests/CLITests/CLISupport.swift).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static var binary: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("isoflop").path
    }

    /// isoflop with these arguments, started in the package root, its output discarded unless
    /// `stderr` is given; skips the test when the binary is not built.
    static func process(_ args: [String], stderr: Pipe? = nil) throws -> Process {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw XCTSkip("the isoflop binary is not built beside the tests (\(binary))")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        p.currentDirectoryURL = root
        p.standardOutput = FileHandle.nullDevice
        p.standardError = stderr ?? FileHandle.nullDevice
        return p
    }

    /// Builds the pydocs corpus's tokenizer and token files at this vocab size when they are
    /// missing (a fresh clone has none), so a test that names them does not depend on which
    /// test happened to build them first.
    static func requirePydocs(vocab: Int) throws {
        let tokens = root.appendingPathComponent("data/tokens/pydocs-v\(vocab)/train.u16").path
        let tokenizer = root.appendingPathComponent("data/tokenizers/pydocs-v\(vocab)/tokenizer.json").path
        if FileManager.default.fileExists(atPath: tokens), FileManager.default.fileExists(atPath: tokenizer) { return }
        let p = try process(["corpus", "build", "pydocs", "--vocab", String(vocab), "--threads", "2"])
        p.standardError = FileHandle.standardError
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw CorpusMissing(vocab: vocab, status: p.terminationStatus) }
    }
}

/// The pydocs data a test needs could not be built: the test fails (it is not skipped).
struct CorpusMissing: Error, CustomStringConvertible {
    var vocab: Int
    var status: Int32
    var description: String { "isoflop corpus build pydocs --vocab \(vocab) exited \(status)" }
}
