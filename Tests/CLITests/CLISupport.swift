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
}
