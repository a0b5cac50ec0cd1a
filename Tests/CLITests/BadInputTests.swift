// Bad input through the real tool: every case ends in a one-line error and a non-zero exit
// (never a signal, a hang or exit 0), and nothing the user had is changed or lost.
import Foundation
import Sweep
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class BadInputTests: XCTestCase {
    /// Runs isoflop to its end; any refusal takes seconds, so two minutes catches a hang early.
    @discardableResult
    func run(_ args: [String], timeout: Double = 120) throws -> CLI.Output { try CLI.capture(args, timeout: timeout) }

    /// Asserts a clean refusal: no signal, the exit status, and a one-line message holding every
    /// string of `mentions`.
    func assertRefused(_ r: CLI.Output, status: Int32 = 1, mentions: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(r.signalled, "crashed: \(r.stderr)", file: file, line: line)
        XCTAssertEqual(r.status, status, "stderr: \(r.stderr)", file: file, line: line)
        let message = r.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        if status == 1 {
            XCTAssertEqual(message.split(separator: "\n").count, 1, "not one line: \(message)", file: file, line: line)
        }
        for m in mentions { XCTAssertTrue(message.contains(m), "'\(m)' missing from: \(message)", file: file, line: line) }
    }

    func write(_ text: String, _ path: String) throws -> String {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// configs/quick.toml with lines replaced (each `old` must be in it).
    func quick(_ dir: String, name: String = "quick", _ edits: [(String, String)] = []) throws -> String {
        try write(CLI.quickConfig(edits.map { (old: $0.0, new: $0.1) } + [("name = \"quick\"", "name = \"\(name)\"")]),
                  dir + "/\(UUID().uuidString).toml")
    }

    let smallRun = CLI.smallRun

    // MARK: Crashes (items 1-6)

    /// Item 1: a `seed` in a TOML run config recursed forever in the decoder (signal 11).
    func testTrainTOMLWithSeed() throws {
        try CLI.requirePydocs(vocab: 512)
        let dir = try temporaryFolder()
        let config = try write(smallRun + "\n", dir + "/run.toml")
        try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(of: "steps = 4", with: "steps = 4\nseed = 1")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let r = try run(["train", config, "--out", dir + "/out"])
        XCTAssertFalse(r.signalled, r.stderr)
        XCTAssertEqual(r.status, 0, r.stderr)
        let negative = try write(smallRun.replacingOccurrences(of: "steps = 4", with: "steps = 4\nseed = -1"), dir + "/neg.toml")
        assertRefused(try run(["train", negative, "--out", dir + "/out2"]), mentions: ["seed", "-1", negative])
    }

    /// Item 2: a NaN cycle in the horizon CSV crashed the report (signal 11).
    func testReportHorizonWithNaN() throws {
        let dir = try temporaryFolder()
        let csv = try write("cycle,step,lr,eval_loss\nnan,100,0.001,4.0\n", dir + "/h.csv")
        // The horizon CSV is read before the store, so no store is needed to reach it.
        let r = try run(["report", "--store", dir + "/none.sqlite", "--horizon", csv, "--out", dir + "/r"])
        assertRefused(r, mentions: ["h.csv:2", "finite"])
    }

    /// Item 3: `--eval-every 0` and `depth_step = 0` divided by zero.
    func testZeroDivisors() throws {
        assertRefused(try run(["horizon", "--eval-every", "0"]), status: 64, mentions: ["--eval-every", "0"])
        let dir = try temporaryFolder()
        let config = try quick(dir, [("depth_step = 64", "depth_step = 0")])
        assertRefused(try run(["sweep", "plan", config]), mentions: ["family.depth_step", "0"])
    }

    /// Item 4: a negative grid size tried to allocate 2^64 bytes.
    func testNegativeGridSize() throws {
        let dir = try temporaryFolder()
        let config = try quick(dir, [("sizes = 3 ", "sizes = -1 ")])
        assertRefused(try run(["sweep", "plan", config]), mentions: ["grid.sizes", "-1"])
    }

    /// Item 5: absurd shapes are refused naming the field, before any allocation.
    func testAbsurdShapes() throws {
        let dir = try temporaryFolder()
        let config = try write(smallRun, dir + "/run.toml")
        assertRefused(try run(["train", config, "--context", "100000", "--out", dir + "/a"]), mentions: ["context", "100000"])
        assertRefused(try run(["train", config, "--batch", "10000000000", "--out", dir + "/b"]), mentions: ["batch", "10000000000"])
        assertRefused(try run(["train", config, "--d", "1099511627776", "--out", dir + "/c"]), mentions: ["d 1099511627776"])
        assertRefused(try run(["train", config, "--layers", "1000000000", "--out", dir + "/d"]), mentions: ["layers 1000000000"])
        // A checkpoint whose config.json asks for a huge model: sample refuses it.
        let checkpoint = dir + "/ckpt"
        try FileManager.default.createDirectory(atPath: checkpoint, withIntermediateDirectories: true)
        _ = try write("""
            {"model": {"vocabSize": 512, "context": 128, "d": 16384, "layers": 1024, "headSize": 32},
             "steps": 10, "schedule": {"kind": "matched", "peak": 0.001}}
            """, checkpoint + "/config.json")
        assertRefused(try run(["sample", checkpoint, "--ids", "1"]), mentions: ["config.json", "GB"])
    }

    /// Item 6: deep nesting overflowed the stack of the TOML and JSON readers.
    func testDeeplyNestedConfigs() throws {
        let dir = try temporaryFolder()
        let deep = 50_000
        let toml = try write("name = \"x\"\nbudgets = " + String(repeating: "[", count: deep) + String(repeating: "]", count: deep) + "\n",
                             dir + "/deep.toml")
        assertRefused(try run(["sweep", "plan", toml]), mentions: ["deep.toml", "nested"])
        let inline = try write("a = " + String(repeating: "{b = ", count: deep) + "1" + String(repeating: "}", count: deep) + "\n",
                               dir + "/inline.toml")
        assertRefused(try run(["sweep", "plan", inline]), mentions: ["inline.toml", "nested"])
        let json = try write(String(repeating: "[", count: deep) + String(repeating: "]", count: deep), dir + "/deep.json")
        assertRefused(try run(["sweep", "plan", json]), mentions: ["deep.json", "nested"])
    }

    // MARK: Data loss (items 7-14)

    /// Item 7: a dry run wrote pretend results as `done` into the sweep's real store.
    func testDryRunLeavesTheRealStoreAlone() throws {
        let dir = try temporaryFolder()
        let name = "dry-\(UUID().uuidString.prefix(8))"
        let config = try quick(dir, name: name, [("budgets = [1e11, 2e11, 3e11]", "budgets = [1e9]")])
        addTeardownBlock { try? FileManager.default.removeItem(at: CLI.root.appendingPathComponent("runs/\(name)")) }
        let r = try run(["sweep", "run", config, "--dry-run", "1000", "--workers", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: CLI.root.appendingPathComponent("runs/\(name)").path),
                       "the dry run created the real store's folder")
        XCTAssertTrue(r.stdout.contains("scratch store"), r.stdout)
    }

    /// A SQLite store named without a folder lives in the current one; it used to fail with
    /// ": no such file" (creating the folder "" beside it).
    func testStoreInTheCurrentFolder() throws {
        let dir = try temporaryFolder()
        try FileManager.default.createSymbolicLink(atPath: dir + "/data", withDestinationPath: CLI.root.appendingPathComponent("data").path)
        let config = try quick(dir, name: "here", [("budgets = [1e11, 2e11, 3e11]", "budgets = [1e9]")])
        let err = Pipe()
        let p = try CLI.process(["sweep", "run", config, "--store", "plain.sqlite", "--dry-run", "1000", "--workers", "1"], stderr: err)
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        try p.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, message)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/plain.sqlite"), message)
    }

    /// Item 8: a second store in the same folder shares `checkpoints/` and must not use the
    /// first one's checkpoints.
    func testTwoStoresRefuseToShareCheckpoints() throws {
        let dir = try temporaryFolder()
        let config = try quick(dir, [("budgets = [1e11, 2e11, 3e11]", "budgets = [1e9]")])
        XCTAssertEqual(try run(["sweep", "run", config, "--store", dir + "/a.sqlite", "--dry-run", "1000", "--workers", "1"]).status, 0)
        let r = try run(["sweep", "run", config, "--store", dir + "/b.sqlite", "--dry-run", "1000", "--workers", "1"])
        assertRefused(r, mentions: ["checkpoint", "b.sqlite"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/b.sqlite"), "the refused store was created")
    }

    /// Item 9: read-only commands on another program's database (or an empty file) changed it.
    func testReadersLeaveForeignDatabasesAlone() throws {
        let dir = try temporaryFolder()
        let foreign = dir + "/other.sqlite"
        try SQLiteConnection(path: foreign).execute("CREATE TABLE notes(x); INSERT INTO notes VALUES (1)")
        let before = try Data(contentsOf: URL(fileURLWithPath: foreign))
        let empty = dir + "/empty.sqlite"
        XCTAssertTrue(FileManager.default.createFile(atPath: empty, contents: nil))
        for args in [["sweep", "status", "--store"], ["report", "--out", dir + "/r", "--store"], ["export", "--out", dir + "/e", "--store"],
                     ["fit", "--store"]] {
            for db in [foreign, empty] {
                let r = try run(args + [db])
                XCTAssertFalse(r.signalled)
                XCTAssertEqual(r.status, 1, "\(args) \(db): \(r.stderr)")
                XCTAssertTrue(r.stderr.contains(db), r.stderr)
            }
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: foreign)), before, "the foreign database changed")
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: empty)[.size] as? Int, 0, "the empty file changed")
        XCTAssertFalse(FileManager.default.fileExists(atPath: foreign + "-wal"))
        // A command that writes runs refuses to create its tables inside it too.
        let config = try quick(dir, [("budgets = [1e11, 2e11, 3e11]", "budgets = [1e9]")])
        assertRefused(try run(["sweep", "run", config, "--store", foreign, "--dry-run", "1000"]), mentions: [foreign, "notes"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: foreign)), before)
    }

    /// Item 10: a sweep name is a folder name; paths, dots and control characters are refused.
    func testSweepNamesAreChecked() throws {
        let dir = try temporaryFolder()
        for bad in ["../../x", ".", "", "a/b", "a\\nb", "..", ".hidden"] {
            let config = try quick(dir, name: bad)
            let r = try run(["sweep", "run", config, "--dry-run", "1000", "--store", dir + "/s.sqlite"])
            assertRefused(r, mentions: ["'name'"])
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/s.sqlite"))
    }

    /// Item 12: the input of `tokenizer encode` is not overwritten, nor another run's `--out`.
    func testOutputsNeverOverwriteInputs() throws {
        try CLI.requirePydocs(vocab: 512)
        let dir = try temporaryFolder()
        let text = try write("hello hello world\n", dir + "/in.txt")
        let r = try run(["tokenizer", "encode", "--tokenizer", "data/tokenizers/pydocs-v512/tokenizer.json",
                         "--input", text, "--output", dir + "/./in.txt"])
        assertRefused(r, mentions: ["in.txt", "same file"])
        XCTAssertEqual(try String(contentsOfFile: text, encoding: .utf8), "hello hello world\n")

        let config = try write(smallRun, dir + "/run.toml")
        XCTAssertEqual(try run(["train", config, "--out", dir + "/out"]).status, 0)
        let metrics = try Data(contentsOf: URL(fileURLWithPath: dir + "/out/metrics.csv"))
        assertRefused(try run(["train", config, "--out", dir + "/out"]), mentions: ["--out", "--resume"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/out/metrics.csv")), metrics)
    }

    /// Item 13: a prompt of another tokenizer would index past the embedding.
    func testSampleRefusesAnotherTokenizer() throws {
        try CLI.requirePydocs(vocab: 512)
        try CLI.requirePydocs(vocab: 2048)
        let dir = try temporaryFolder()
        let config = try write(smallRun, dir + "/run.toml")
        XCTAssertEqual(try run(["train", config, "--out", dir + "/out"]).status, 0)
        let r = try run(["sample", dir + "/out/checkpoint", "--prompt", "def main():",
                         "--tokenizer", "data/tokenizers/pydocs-v2048/tokenizer.json", "--count", "2"])
        assertRefused(r, mentions: ["2048", "512"])
        assertRefused(try run(["sample", dir + "/out/checkpoint", "--ids", "1,600"]), mentions: ["600"])
        assertRefused(try run(["sample", dir + "/out/checkpoint", "--ids", "1", "--temperature", "nan"]), status: 64,
                      mentions: ["--temperature", "nan"])
    }

    // MARK: Hidden errors (items 15-21)

    /// Item 15: a sweep none of whose runs can train fails before any worker starts, with the
    /// reason, a non-zero exit, and nothing planned into the store.
    /// Issue 25, item 9: a plan without runs (every budget below one step of every shape) is an
    /// error before anything is stored, and the corrected config then runs in the same store.
    func testAnEmptyPlanIsRefusedBeforeAnythingIsStored() throws {
        let dir = try temporaryFolder()
        let store = dir + "/s.sqlite"
        let empty = try quick(dir, [("budgets = [1e11, 2e11, 3e11]", "budgets = [1e8]")])
        let r = try run(["sweep", "run", empty, "--store", store, "--dry-run", "100"])
        assertRefused(r, mentions: ["the plan has no runs", "less than one step"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: store), "an empty sweep was stored: \(r.stdout)")
        let fixed = try quick(dir, [("budgets = [1e11, 2e11, 3e11]", "budgets = [1e11]")])
        let again = try run(["sweep", "run", fixed, "--store", store, "--dry-run", "100"])
        XCTAssertEqual(again.status, 0, again.stderr)
    }

    func testUnrunnableSweepFailsUpFront() throws {
        let dir = try temporaryFolder()
        for (edit, mention) in [(("eval_batches = 2 ", "eval_batches = 0 "), "eval_batches"),
                                (("fixed_cycle = 0 ", "fixed_cycle = 1 "), "cycleSteps"),
                                (("vocab = 512 ", "vocab = 2048 "), "2048")] {
            let config = try quick(dir, [edit])
            let store = dir + "/\(UUID().uuidString).sqlite"
            let r = try run(["sweep", "run", config, "--store", store])
            assertRefused(r, mentions: [mention])
            XCTAssertFalse(FileManager.default.fileExists(atPath: store), "planned into the store: \(r.stderr)")
        }
    }

    /// Item 17: numeric flags are checked where they are received.
    func testNumericFlags() throws {
        let dir = try temporaryFolder()
        let config = try quick(dir)
        for (flag, value) in [("--dry-run", "0"), ("--lease", "-5"), ("--workers", "100000"), ("--workers", "0")] {
            let r = try run(["sweep", "run", config, "--store", dir + "/s.sqlite", "\(flag)=\(value)"])
            assertRefused(r, status: 64, mentions: [flag, value])
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/s.sqlite"))
    }

    /// Item 18: no data is an error with its reason for fit, report and export alike.
    func testNoFinishedRunsIsAnError() throws {
        let dir = try temporaryFolder()
        let config = try quick(dir, [("budgets = [1e11, 2e11, 3e11]", "budgets = [1e9]")])
        let store = dir + "/s.sqlite"
        XCTAssertEqual(try run(["sweep", "plan", config, "--store", store]).status, 0)
        assertRefused(try run(["fit", "--store", store]), mentions: ["no finished runs"])
        assertRefused(try run(["report", "--store", store, "--out", dir + "/r"]), mentions: ["no finished runs"])
        assertRefused(try run(["export", "--store", store, "--out", dir + "/e"]), mentions: ["no finished runs"])
        let csv = try write("N,D,C,loss\ninf,1e6,1e12,3.0\n", dir + "/runs.csv")
        assertRefused(try run(["fit", csv]), mentions: ["inf"])
    }

    /// Item 19: a FIFO as token file hung `train`.
    func testFIFOTokenFile() throws {
        let dir = try temporaryFolder()
        let fifo = dir + "/tokens.u16"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let config = try write(smallRun, dir + "/run.toml")
        assertRefused(try run(["train", config, "--tokens", fifo, "--out", dir + "/out"], timeout: 30),
                      mentions: [fifo, "not a regular file"])
    }

    /// Item 20: JSON with a bad value names the key and value; no raw NSError dumps.
    func testMessagesNameKeyAndValue() throws {
        let dir = try temporaryFolder()
        let json = try write("""
            {"steps": 4, "seed": -3, "model": {"d": 32, "layers": 1}, "schedule": {"kind": "matched", "peak": 0.001}}
            """, dir + "/run.json")
        assertRefused(try run(["train", json, "--out", dir + "/o"]), mentions: ["seed", "-3", "run.json"])
        let r = try run(["report", "--store", dir + "/missing.sqlite", "--out", dir + "/r"])
        assertRefused(r, mentions: ["missing.sqlite"])
        XCTAssertFalse(r.stderr.contains("NSCocoaErrorDomain"), r.stderr)
        let plan = try run(["sweep", "plan", try quick(dir, [("flops_per_second = 5.7e10", "flops_per_second = 1e-300")])])
        XCTAssertEqual(plan.status, 0, plan.stderr)
        XCTAssertFalse(plan.stdout.contains("-9223372036854775808"), plan.stdout)
    }

    /// Item 20: `sweep status` does not count a worker of this machine whose process is gone.
    func testStatusSeesDeadLocalWorkers() throws {
        let dir = try temporaryFolder()
        let config = try quick(dir, [("budgets = [1e11, 2e11, 3e11]", "budgets = [1e9]")])
        let store = dir + "/s.sqlite"
        XCTAssertEqual(try run(["sweep", "plan", config, "--store", store]).status, 0)
        // A pid that surely exited: a finished child of this test.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let db = try SQLiteRunStore(path: store)
        let sweep = try XCTUnwrap(db.sweepID(named: "quick"))
        _ = try XCTUnwrap(db.claimNextRun(sweep: sweep, worker: "gone", host: ProcessInfo.processInfo.hostName,
                                          pid: Int(child.processIdentifier), lease: 3600))
        let r = try run(["sweep", "status", "--store", store])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("workers alive: 0"), r.stdout)
        XCTAssertTrue(r.stdout.contains("pid \(child.processIdentifier)"), r.stdout)
    }

    /// Item 21: `kill -9` of `sweep run` takes its workers with it (they hand their runs back),
    /// and a rerun finishes every run.
    func testWorkersDieWithTheirSweep() throws {
        let dir = try temporaryFolder()
        let config = try quick(dir, [("budgets = [1e11, 2e11, 3e11]", "budgets = [3e10]")])
        let store = dir + "/s.sqlite"
        // Slow pretend training: runs last several seconds each.
        let p = try CLI.process(["sweep", "run", config, "--store", store, "--dry-run", "0.1", "--workers", "2"])
        try p.run()
        var workers: [Int] = []
        let deadline = Date().addingTimeInterval(60)
        while workers.count < 2 && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.2)
            if let db = try? SQLiteRunStore(path: store, readOnly: true), let id = try? db.sweepID(named: "quick") {
                workers = ((try? db.runs(sweep: id)) ?? []).filter { $0.status == .running }.compactMap(\.pid)
            }
        }
        XCTAssertEqual(workers.count, 2, "the workers did not start")
        // Issue 25, item 8: a worker's command line (which `ps` shows every user) names no store;
        // the store reaches it through its environment.
        for pid in workers {
            let cmdline = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
            XCTAssertTrue(cmdline.contains("worker"), cmdline)
            XCTAssertFalse(cmdline.contains(store) || cmdline.contains("--store"), cmdline.replacingOccurrences(of: "\0", with: " "))
            let environ = (try? String(contentsOfFile: "/proc/\(pid)/environ", encoding: .utf8)) ?? ""
            XCTAssertTrue(environ.contains("ISOFLOP_STORE=\(store)"), "the worker has no store in its environment")
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let gone = Date().addingTimeInterval(20)
        while workers.contains(where: { kill(pid_t($0), 0) == 0 }) && Date() < gone { Thread.sleep(forTimeInterval: 0.1) }
        XCTAssertFalse(workers.contains(where: { kill(pid_t($0), 0) == 0 }), "workers outlived their sweep")
        let rerun = try run(["sweep", "run", config, "--store", store, "--dry-run", "50", "--workers", "2"], timeout: 300)
        XCTAssertEqual(rerun.status, 0, rerun.stderr)
        let db = try SQLiteRunStore(path: store, readOnly: true)
        let runs = try db.runs(sweep: try XCTUnwrap(db.sweepID(named: "quick")))
        XCTAssertTrue(runs.allSatisfy { $0.status == .done }, "\(runs.map(\.status))")
    }
}
