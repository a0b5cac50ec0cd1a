// What a checkpoint folder may hold (a store's own files only), the orphan watch that ends a
// worker stuck in an evaluation after its parent died, the evaluation's bound by the validation
// file, and a config's budgets bounded in number and in the length of their error.
import Foundation
import Sweep
import Training
import XCTest

final class CheckpointRootTests: XCTestCase {
    func testOnlyAStoresOwnFilesPassUnmarked() throws {
        let dir = temporaryDirectory()
        let fm = FileManager.default
        for folder in ["run-1", "run-1.new", "run-2.start", "run-3.start.new"] {
            try fm.createDirectory(atPath: dir + "/" + folder, withIntermediateDirectories: true)
        }
        for file in ["run-1/model.safetensors", "run-1/state.json", "run-1.new/config.json.tmp-42", "run-1.new/rows-stored",
                     "run-2.start/optimizer.safetensors", "run-1.owner", ".isoflop-write-test-7",
                     // Foundation's temporary files while it writes an owner file or the swap's marker.
                     ".dat.nosync37A6.ciMMpU", "run-1.new/.dat.nosync37A6.tfey3S"] {
            XCTAssertTrue(fm.createFile(atPath: dir + "/" + file, contents: Data()))
        }
        XCTAssertEqual(CheckpointRoot.foreignEntries(in: dir), [])
        XCTAssertNoThrow(try CheckpointRoot.checkUnmarked(dir))

        XCTAssertTrue(fm.createFile(atPath: dir + "/run-1/notes.txt", contents: Data("mine".utf8)))
        XCTAssertTrue(fm.createFile(atPath: dir + "/results.csv", contents: Data()))
        try fm.createDirectory(atPath: dir + "/run-x", withIntermediateDirectories: true)
        XCTAssertTrue(fm.createFile(atPath: dir + "/run-4.owner.bak", contents: Data()))
        XCTAssertEqual(CheckpointRoot.foreignEntries(in: dir, limit: 10), ["results.csv", "run-1/notes.txt", "run-4.owner.bak", "run-x"])
        XCTAssertThrowsError(try CheckpointRoot.checkUnmarked(dir)) {
            XCTAssertEqual($0 as? WorkerError, .foreignFiles(path: dir, entries: ["results.csv", "run-1/notes.txt", "run-4.owner.bak"]))
        }
        // A file where a store keeps a folder (and the reverse) is not the store's either.
        let other = temporaryDirectory("other")
        XCTAssertTrue(fm.createFile(atPath: other + "/run-5", contents: Data()))
        try fm.createDirectory(atPath: other + "/run-6.owner", withIntermediateDirectories: true)
        XCTAssertEqual(CheckpointRoot.foreignEntries(in: other), ["run-5", "run-6.owner"])
    }

    func testOrphanWatchEndsOnlyAfterTheGraceAndOnlyWhenOrphaned() throws {
        final class Flag: @unchecked Sendable {
            let lock = NSLock()
            var orphaned = false
            var abandoned: Date?
        }
        let flag = Flag()
        OrphanWatch(isOrphaned: { flag.lock.lock(); defer { flag.lock.unlock() }; return flag.orphaned },
                    grace: 0.5, poll: 0.02, onAbandon: { flag.lock.lock(); flag.abandoned = Date(); flag.lock.unlock() }).start()
        Thread.sleep(forTimeInterval: 0.3)
        flag.lock.lock()
        XCTAssertNil(flag.abandoned, "a worker whose parent lives is left alone")
        flag.orphaned = true
        flag.lock.unlock()
        let orphaned = Date()
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            flag.lock.lock(); let done = flag.abandoned; flag.lock.unlock()
            if let done {
                XCTAssertGreaterThanOrEqual(done.timeIntervalSince(orphaned), 0.45, "not before the grace")
                return
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        XCTFail("the orphaned worker was never ended")
    }

    /// Issue 25 item 6: eval_batches = 100000 over a validation file of 938 windows planned as 6 s
    /// and never finished a run.
    func testEvalBatchesAreBoundByTheValidationFile() throws {
        var config = tinyConfig()
        config.context = 128
        config.batch = 32
        let tokens = 938 * 128 + 1
        XCTAssertEqual(EvaluationSample.distinctWindows(tokens: tokens, context: 128), 938)
        config.evalBatches = 29
        XCTAssertNoThrow(try config.checkEvaluation(validationTokens: tokens, path: "eval.u16"))
        config.evalBatches = 100_000
        XCTAssertThrowsError(try config.checkEvaluation(validationTokens: tokens, path: "eval.u16")) {
            let message = "\($0)"
            for part in ["eval_batches", "100000", "938 windows", "eval.u16", "at most 29"] {
                XCTAssertTrue(message.contains(part), message)
            }
        }
    }

    /// Issue 25 item 14: 10^6 budgets gave a one-line error of 10.9 MB after 27 s.
    func testManyBudgetsGiveAShortError() throws {
        var config = tinyConfig()
        config.budgets = [Double](repeating: 3e11, count: 20_000)
        XCTAssertThrowsError(try config.validate(file: "c.toml")) {
            XCTAssertTrue("\($0)".contains("lists 20000 budgets; a sweep takes at most 10000"), "\($0)")
        }
        config.budgets = [Double](repeating: 3e11, count: 5000) + [1e12]
        XCTAssertThrowsError(try config.validate(file: "c.toml")) {
            let message = "\($0)"
            XCTAssertLessThan(message.count, 300, message)
            XCTAssertTrue(message.contains("budgets[0] and budgets[1] are both 3e11"), message)
            XCTAssertTrue(message.contains("4996 more repeats"), message)
        }
    }
}
