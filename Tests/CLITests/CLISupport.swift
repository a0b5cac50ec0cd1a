// What the command-line tests share: the package root, the isoflop binary built beside them,
// running it, the quick config with edits, and temporary folders.
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

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

extension CLI {
    /// How a finished isoflop process ended, and what it wrote.
    struct Output {
        var status: Int32
        /// Killed by a signal (a crash, or the timeout) rather than exiting.
        var signalled: Bool
        var stdout: String
        var stderr: String
    }

    /// Runs isoflop to its end with both streams captured, started in `dir` (the package root
    /// unless given). Each pipe is drained on its own thread, since a full pipe would block the
    /// tool; a run still going after `timeout` seconds is killed and fails the test (a hang).
    static func capture(_ args: [String], in dir: String? = nil, timeout: Double = 600,
                        file: StaticString = #filePath, line: UInt = #line) throws -> Output {
        let out = Pipe(), err = Pipe()
        let p = try process(args, stderr: err)
        p.standardOutput = out
        if let dir { p.currentDirectoryURL = URL(fileURLWithPath: dir) }
        try p.run()
        final class Sink: @unchecked Sendable { var data = Data() }
        let outSink = Sink(), errSink = Sink()
        let group = DispatchGroup()
        for (pipe, sink) in [(out, outSink), (err, errSink)] {
            group.enter()
            DispatchQueue.global().async { sink.data = pipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        }
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            XCTFail("isoflop \(args.joined(separator: " ")) did not finish within \(timeout) s", file: file, line: line)
        }
        p.waitUntilExit()
        // The group's wait orders the sinks' writes before these reads.
        group.wait()
        return Output(status: p.terminationStatus, signalled: p.terminationReason == .uncaughtSignal,
                      stdout: String(decoding: outSink.data, as: UTF8.self), stderr: String(decoding: errSink.data, as: UTF8.self))
    }

    /// Runs isoflop to its end in `dir` (the package root unless given), its errors in the test
    /// log; the exit status.
    @discardableResult
    static func run(_ args: [String], in dir: String? = nil) throws -> Int32 {
        let p = try process(args, stderr: nil)
        p.standardError = FileHandle.standardError
        if let dir { p.currentDirectoryURL = URL(fileURLWithPath: dir) }
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }

    /// Kills `pid` and every process below it with SIGKILL, the deepest first, so that none of
    /// them gets to clean up or to start another (`reproduce` and `ladder` run stages that run
    /// workers). Children are read from every thread's list in /proc.
    static func killTree(_ pid: Int32) {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        kill(pid, SIGSTOP)   // no new children while the tree is read
        for task in tasks {
            let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8)) ?? ""
            for child in children.split(separator: " ").compactMap({ Int32($0) }) { killTree(child) }
        }
        kill(pid, SIGKILL)
    }

    /// A run config of four steps of a one-layer d = 32 model on pydocs at V = 512.
    static let smallRun = """
        steps = 4
        batchSize = 2
        evalBatches = 1
        trainTokens = "data/tokens/pydocs-v512/train.u16"
        [model]
        vocabSize = 512
        context = 16
        d = 32
        layers = 1
        [schedule]
        kind = "matched"
        peak = 0.001
        """

    /// configs/quick.toml with `edits` made (the test fails where an edit's old text is missing)
    /// and, with `absolutePaths`, its data paths made absolute, for a config written elsewhere.
    static func quickConfig(_ edits: [(old: String, new: String)], absolutePaths: Bool = false,
                            file: StaticString = #filePath, line: UInt = #line) throws -> String {
        var text = try String(contentsOf: root.appendingPathComponent("configs/quick.toml"), encoding: .utf8)
        for (old, new) in edits {
            XCTAssertTrue(text.contains(old), "configs/quick.toml lacks '\(old)'", file: file, line: line)
            text = text.replacingOccurrences(of: old, with: new)
        }
        if absolutePaths {
            for key in ["train_tokens", "eval_tokens", "tokenizer"] {
                text = text.replacingOccurrences(of: "\(key) = \"", with: "\(key) = \"\(root.path)/")
            }
        }
        return text
    }
}

extension CLI {
    /// Waits (up to `seconds`) for a run of the running `process` to write a checkpoint into
    /// `checkpoints`, then kills its workers and then it with SIGKILL, so nothing gets to clean
    /// up. Returns whether it killed mid-run; waits for the process to end either way.
    static func killOnceCheckpointed(_ process: Process, checkpoints: String, within seconds: Double) -> Bool {
        var killed = false
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline {
            let written = ((try? FileManager.default.contentsOfDirectory(atPath: checkpoints)) ?? [])
                .contains { FileManager.default.fileExists(atPath: checkpoints + "/" + $0 + "/state.json") }
            if written {
                let pid = process.processIdentifier
                let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
                for child in children.split(separator: " ").compactMap({ Int32($0) }) { kill(child, SIGKILL) }
                kill(pid, SIGKILL)
                killed = true
                break
            }
            usleep(2_000)
        }
        process.waitUntilExit()
        return killed
    }
}

extension XCTestCase {
    /// A new empty folder in the temporary directory, named after the test, removed when it ends.
    func temporaryFolder() throws -> String {
        let label = String(describing: type(of: self)).lowercased()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("isoflop-\(label)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }
}
