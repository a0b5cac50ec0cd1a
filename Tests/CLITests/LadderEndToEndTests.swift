// `isoflop ladder` end to end on the quick config at tiny budgets: a Kaplan rung and a
// Chinchilla rung trained, a third rung that only counts N differently copied from the second,
// every rung fitted, ladder.json and the page written; run again, nothing is trained.
import Foundation
import Ladder
import Sweep
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

extension EndToEndTests {
    /// A folder holding the tiny ladder: the quick config at a tenth of its budgets (so that
    /// Kaplan's count, several times the tokens for these tiny shapes, still trains in seconds)
    /// and three rungs: Kaplan's, Chinchilla's, and one that only counts N without embeddings.
    func tinyLadderFolder() throws -> String {
        let dir = try temporaryFolder()
        let fm = FileManager.default
        let data = Self.root.appendingPathComponent("data").path
        try fm.createDirectory(atPath: data, withIntermediateDirectories: true)
        try fm.createSymbolicLink(atPath: dir + "/data", withDestinationPath: data)
        let quick = try String(contentsOf: Self.root.appendingPathComponent("configs/quick.toml"), encoding: .utf8)
        let tiny = quick.replacingOccurrences(of: "budgets = [1e11, 2e11, 3e11]", with: "budgets = [1e10, 2e10, 4e10]")
        XCTAssertNotEqual(tiny, quick)
        try tiny.write(toFile: dir + "/tiny.toml", atomically: true, encoding: .utf8)
        try """
            name = "tiny"
            base = "tiny.toml"
            [[rungs]]
            name = "kaplan"
            flop_count = "kaplan"
            params = "nonemb"
            warmup_steps = 30
            schedule = "fixed"
            [[rungs]]
            name = "chinchilla"
            flop_count = "appendix_f"
            params = "total"
            warmup_fraction = 0.05
            schedule = "matched"
            [[rungs]]
            name = "nonemb"
            params = "nonemb"
            """.write(toFile: dir + "/ladder.toml", atomically: true, encoding: .utf8)
        return dir
    }

    func testTinyLadderTrainsSharesFitsAndResumes() throws {
        let dir = try tinyLadderFolder()
        let fm = FileManager.default
        let args = ["ladder", "--config", "ladder.toml", "--out", "out", "--bootstrap", "20", "--workers", "2"]
        XCTAssertEqual(try CLI.run(["ladder", "--config", "ladder.toml", "--plan"], in: dir), 0)
        XCTAssertFalse(fm.fileExists(atPath: dir + "/runs/tiny/sweep.sqlite"), "--plan trains nothing")
        XCTAssertEqual(try CLI.run(args, in: dir), 0)

        let summary = try JSONDecoder().decode(LadderSummary.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/out/ladder.json")))
        XCTAssertEqual(summary.rungs.map(\.name), ["kaplan", "chinchilla", "nonemb"])
        XCTAssertEqual(summary.rungs.map(\.flopCount), [.kaplan, .appendixF, .appendixF])
        XCTAssertEqual(summary.plannedRuns, 27)
        // The Kaplan rung's fixed runs share one schedule per shape: each shape's two shorter
        // runs are the first steps of its longest; the third rung copies the second.
        XCTAssertEqual(summary.distinctTrainings, 3 + 9)
        XCTAssertEqual(summary.rungs.map(\.copied), [0, 0, 9])
        XCTAssertEqual(summary.rungs.map(\.finished), [9, 9, 9])
        for rung in summary.rungs {
            // Approach 3 fits any (N, D, loss) points; its a and interval must be finite numbers.
            let a = try XCTUnwrap(rung.approach3A, rung.name)
            XCTAssertTrue(a.value.isFinite, rung.name)
            XCTAssertNotNil(a.interval95, rung.name)
        }
        XCTAssertEqual(summary.rungs[0].delta["warmup_steps"], "30")

        // The copied rung trains nothing: its runs carry the second rung's curves.
        let store = try SQLiteRunStore(path: dir + "/runs/tiny/sweep.sqlite")
        let second = try store.runs(sweep: try XCTUnwrap(store.sweepID(named: "tiny-chinchilla")))
        let third = try store.runs(sweep: try XCTUnwrap(store.sweepID(named: "tiny-nonemb")))
        XCTAssertEqual(third.map(\.finalEvalLoss), second.map(\.finalEvalLoss))
        let secondIDs = Dictionary(uniqueKeysWithValues: second.map { ($0.plan.key, $0.id) })
        XCTAssertTrue(third.allSatisfy { $0.wallSeconds == 0 && $0.copiedFrom == secondIDs[$0.plan.key] })
        let kaplan = try store.runs(sweep: try XCTUnwrap(store.sweepID(named: "tiny-kaplan")))
        XCTAssertTrue(kaplan.allSatisfy { $0.status == .done && $0.plan.flopCount == .kaplan })
        XCTAssertTrue(zip(kaplan.sorted { $0.plan.key < $1.plan.key }, second.sorted { $0.plan.key < $1.plan.key })
            .allSatisfy { $0.plan.steps > $1.plan.steps }, "Kaplan's count trains each shape longer at the same budget")

        for name in ["ladder-exponents.svg", "ladder-profiles.svg"] {
            let svg = try String(contentsOfFile: dir + "/out/" + name, encoding: .utf8)
            XCTAssertNoThrow(try XMLDocument(data: Data(svg.utf8)), name)
            XCTAssertFalse(svg.contains("NaN") || svg.contains("\"nan"), name)
        }
        let html = try String(contentsOfFile: dir + "/out/index.html", encoding: .utf8)
        XCTAssertTrue(html.contains("ladder-table") && html.contains("<svg"))
        XCTAssertTrue(fm.fileExists(atPath: dir + "/out/rungs/tiny-kaplan.json"))

        // `fit` and `report` read a sweep's `params` knob: the nonemb rung is fitted with
        // N_nonemb alone by default, the total rung under both counts, as before.
        let storeFile = "runs/tiny/sweep.sqlite"
        let fitNonemb = try CLI.capture(["fit", storeFile, "--sweep", "tiny-nonemb", "--approach", "3"], in: dir)
        XCTAssertEqual(fitNonemb.status, 0, fitNonemb.stderr)
        XCTAssertTrue(fitNonemb.stdout.contains("N counts non-embedding parameters"), fitNonemb.stdout)
        XCTAssertFalse(fitNonemb.stdout.contains("N counts total parameters"), fitNonemb.stdout)
        let fitTotal = try CLI.capture(["fit", storeFile, "--sweep", "tiny-chinchilla", "--approach", "3"], in: dir)
        XCTAssertTrue(fitTotal.stdout.contains("N counts total parameters")
                      && fitTotal.stdout.contains("N counts non-embedding parameters"), fitTotal.stdout)
        // The Kaplan rung's one schedule is fixed: fitted without naming it (a regression: fit
        // looked for matched runs and found none).
        let fitFixed = try CLI.capture(["fit", storeFile, "--sweep", "tiny-kaplan", "--approach", "3"], in: dir)
        XCTAssertEqual(fitFixed.status, 0, fitFixed.stderr)
        XCTAssertTrue(fitFixed.stdout.contains("N counts non-embedding parameters"), fitFixed.stdout)
        let forced = try CLI.capture(["fit", storeFile, "--sweep", "tiny-nonemb", "--approach", "3", "--params", "total"], in: dir)
        XCTAssertTrue(forced.stdout.contains("N counts total parameters"), forced.stdout)
        XCTAssertEqual(try CLI.run(["report", storeFile, "--sweep", "tiny-nonemb", "--out", "report", "--bootstrap", "0"], in: dir), 0)
        let page = try String(contentsOfFile: dir + "/report/index.html", encoding: .utf8)
        XCTAssertTrue(page.contains("N counts non-embedding parameters"), "the report says how it counts N")

        // Rerun: nothing trains again, the outputs are rewritten.
        let before = try store.runs(sweep: try XCTUnwrap(store.sweepID(named: "tiny-kaplan"))).map(\.ended)
        try fm.removeItem(atPath: dir + "/out/ladder.json")
        XCTAssertEqual(try CLI.run(args, in: dir), 0)
        XCTAssertEqual(try store.runs(sweep: try XCTUnwrap(store.sweepID(named: "tiny-kaplan"))).map(\.ended), before)
        XCTAssertTrue(fm.fileExists(atPath: dir + "/out/ladder.json"))

        // The same ladder in another folder, killed with SIGKILL (the ladder, its sweep and both
        // workers) once some of its runs are done, then run again with the same command: every
        // run of every rung ends with the losses of the uninterrupted ladder, and so do the fits.
        let again = try temporaryFolder()
        for name in ["data", "tiny.toml", "ladder.toml"] {
            try fm.createSymbolicLink(atPath: again + "/" + name, withDestinationPath: dir + "/" + name)
        }
        let killed = try CLI.process(args)
        killed.currentDirectoryURL = URL(fileURLWithPath: again)
        try killed.run()
        var doneAtKill = 0
        let deadline = Date().addingTimeInterval(120)
        while killed.isRunning && Date() < deadline && doneAtKill < 4 {
            if let s = try? SQLiteRunStore(path: again + "/runs/tiny/sweep.sqlite", readOnly: true),
               let id = try? s.sweepID(named: "tiny-kaplan"), let runs = try? s.runs(sweep: id) {
                doneAtKill = runs.filter { $0.status == .done }.count
            }
            usleep(5_000)
        }
        CLI.killTree(killed.processIdentifier)
        killed.waitUntilExit()
        XCTAssertGreaterThanOrEqual(doneAtKill, 4, "killed before four runs were done")
        XCTAssertFalse(fm.fileExists(atPath: again + "/out/ladder.json"), "the ladder had finished before the kill")
        XCTAssertEqual(try CLI.run(args, in: again), 0)
        let resumed = try SQLiteRunStore(path: again + "/runs/tiny/sweep.sqlite")
        for rung in ["tiny-kaplan", "tiny-chinchilla", "tiny-nonemb"] {
            func losses(_ s: SQLiteRunStore) throws -> [String: Double?] {
                Dictionary(uniqueKeysWithValues: try s.runs(sweep: try XCTUnwrap(s.sweepID(named: rung))).map { ($0.plan.key, $0.finalEvalLoss) })
            }
            XCTAssertEqual(try losses(resumed), try losses(store), rung)
        }
        let after = try JSONDecoder().decode(LadderSummary.self, from: Data(contentsOf: URL(fileURLWithPath: again + "/out/ladder.json")))
        XCTAssertEqual(after.rungs.map { $0.approach3A?.value }, summary.rungs.map { $0.approach3A?.value })
    }

    /// Two ladders on one store at once, as two Slurm tasks run them (`--wait-for-others`, one
    /// worker each): they plan the same rungs without conflict, every run of every rung ends,
    /// each distinct training is done once (the last rung's runs all copied), and the ladder.json
    /// they both write is complete.
    func testTwoLaddersOnOneStoreShareTheWork() throws {
        let dir = try tinyLadderFolder()
        let args = ["ladder", "--config", "ladder.toml", "--store", "runs/shared.sqlite", "--out", "out", "--bootstrap", "20",
                    "--workers", "1", "--wait-for-others"]
        // Each ladder's stderr goes to a file, so that a failure says why.
        var logs: [String] = []
        var processes: [Process] = []
        for k in 0..<2 {
            let log = dir + "/ladder-\(k).err"
            XCTAssertTrue(FileManager.default.createFile(atPath: log, contents: nil))
            let p = try CLI.process(args)
            p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            p.currentDirectoryURL = URL(fileURLWithPath: dir)
            try p.run()
            logs.append(log)
            processes.append(p)
        }
        let (first, second) = (processes[0], processes[1])
        let deadline = Date().addingTimeInterval(300)
        while (first.isRunning || second.isRunning) && Date() < deadline { usleep(50_000) }
        for p in [first, second] where p.isRunning { CLI.killTree(p.processIdentifier) }
        first.waitUntilExit()
        second.waitUntilExit()
        for (p, log) in zip(processes, logs) {
            XCTAssertEqual(p.terminationStatus, 0, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
        }

        let store = try SQLiteRunStore(path: dir + "/runs/shared.sqlite", readOnly: true)
        var trained = 0
        for rung in ["tiny-kaplan", "tiny-chinchilla", "tiny-nonemb"] {
            let runs = try store.runs(sweep: try XCTUnwrap(store.sweepID(named: rung)))
            XCTAssertEqual(runs.count, 9, rung)
            XCTAssertTrue(runs.allSatisfy { $0.status == .done }, rung)
            // A copied run (identical training in another rung) and a prefix read from a shared
            // fixed run are not trainings of their own.
            trained += runs.filter { $0.sharedFrom == nil && $0.copiedFrom == nil }.count
        }
        XCTAssertEqual(trained, 3 + 9, "each distinct training once, by one of the two ladders")
        let summary = try JSONDecoder().decode(LadderSummary.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/out/ladder.json")))
        XCTAssertEqual(summary.rungs.map(\.finished), [9, 9, 9])
        XCTAssertEqual(summary.rungs.map(\.copied), [0, 0, 9])
    }

    /// `ladder --slurm` writes a job whose every task runs the ladder with --wait-for-others,
    /// plans only the first rung, and trains nothing; Slurm's options need --slurm.
    func testLadderSlurmWritesTheScript() throws {
        let dir = try tinyLadderFolder()
        let r = try CLI.capture(["ladder", "--config", "ladder.toml", "--slurm", "--store", "runs/c.sqlite",
                                 "--checkpoints", "ck", "--nodes", "3", "--processes-per-node", "4", "--script", "job.sbatch"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let text = try String(contentsOfFile: dir + "/job.sbatch", encoding: .utf8)
        let real = URL(fileURLWithPath: dir).resolvingSymlinksInPath().path
        XCTAssertTrue(text.contains("#SBATCH --job-name=isoflop-ladder-tiny\n"), text)
        XCTAssertTrue(text.contains("#SBATCH --array=0-2\n") && text.contains("#SBATCH --cpus-per-task=4\n"), text)
        XCTAssertTrue(text.contains(" ladder --config \(real)/ladder.toml --store sqlite:\(real)/runs/c.sqlite"), text)
        XCTAssertTrue(text.contains("--workers 4 --out \(real)/out") && text.contains("--wait-for-others"), text)
        let store = try SQLiteRunStore(path: dir + "/runs/c.sqlite", readOnly: true)
        XCTAssertEqual(try store.sweepNames(), ["tiny-kaplan"], "only the first rung is planned")
        let runs = try store.runs(sweep: try XCTUnwrap(store.sweepID(named: "tiny-kaplan")))
        XCTAssertTrue(runs.allSatisfy { $0.status == .planned })
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/out/ladder.json"))

        let stray = try CLI.capture(["ladder", "--config", "ladder.toml", "--nodes", "2"], in: dir)
        XCTAssertNotEqual(stray.status, 0)
        XCTAssertTrue(stray.stderr.contains("--slurm"), stray.stderr)
    }

    /// A bad ladder config, or another store's checkpoint folder, stops the ladder before it
    /// plans anything into its store.
    func testBadLadderInputWritesNothing() throws {
        let dir = try temporaryFolder()
        try "name = \"bad\"\nbase = \"nowhere.toml\"\n[[rungs]]\nname = \"a\"\nschedule = \"matched\"\n"
            .write(toFile: dir + "/missing-base.toml", atomically: true, encoding: .utf8)
        try "name = \"bad\"\nbase = \"nowhere.toml\"\n[[rungs]]\nname = \"a\"\nbeta2 = 2\n"
            .write(toFile: dir + "/bad-beta.toml", atomically: true, encoding: .utf8)
        for config in ["missing-base.toml", "bad-beta.toml", "absent.toml"] {
            XCTAssertEqual(try CLI.run(["ladder", "--config", config], in: dir), 1, config)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/runs"))
        XCTAssertNotEqual(try CLI.run(["ladder", "--bootstrap", "-1"], in: dir), 0)
    }
}
