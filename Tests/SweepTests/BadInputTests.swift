// Bad input at the Sweep target's doors: the config decoder and readers, the sweep config's
// ranges, the store's open modes, checkpoint folders shared by two stores, and a database
// server that never answers. Each is an error naming what and where; nothing is changed.
import Foundation
import Model
import Sweep
import Training
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class ConfigInputTests: XCTestCase {
    func sweepTOML(_ edits: [(String, String)] = []) -> String {
        var text = """
            name = "t"
            corpus = "c"
            train_tokens = "train.u16"
            eval_tokens = "eval.u16"
            tokenizer = "tokenizer.json"
            vocab = 512
            budgets = [1e10, 2e10]
            batch = 8
            [family]
            widths = [32, 64]
            depth_step = 64
            [grid]
            sizes = 3
            width = 100
            """
        for (old, new) in edits {
            XCTAssertTrue(text.contains(old), old)
            text = text.replacingOccurrences(of: old, with: new)
        }
        return text
    }

    func load(_ text: String) throws -> SweepConfig {
        let c = try ConfigDecoder.decode(SweepConfig.self, fromTOML: text, file: "s.toml")
        try c.validate(file: "s.toml")
        return c
    }

    func assertError(_ body: @autoclosure () throws -> Any, mentions: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { e in
            let message = "\(e)"
            XCTAssertFalse(message.contains("\n"), "not one line: \(message)", file: file, line: line)
            for m in mentions { XCTAssertTrue(message.contains(m), "'\(m)' missing from: \(message)", file: file, line: line) }
        }
    }

    /// Item 1: UInt64 (and every other integer type) goes through one checked path instead of
    /// recursing forever.
    func testUnsignedAndNarrowIntegers() throws {
        let run = """
            steps = 10
            seed = 7
            [model]
            d = 32
            layers = 1
            [schedule]
            kind = "matched"
            peak = 0.001
            """
        XCTAssertEqual(try ConfigDecoder.decode(TrainConfig.self, fromTOML: run, file: "r.toml").seed, 7)
        XCTAssertEqual(try ConfigDecoder.decode(TrainConfig.self, fromJSON: """
            {"steps": 10, "seed": 1e3, "model": {"d": 32, "layers": 1}, "schedule": {"kind": "matched", "peak": 0.001}}
            """, file: "r.json").seed, 1000)
        assertError(try ConfigDecoder.decode(TrainConfig.self, fromTOML: run.replacingOccurrences(of: "seed = 7", with: "seed = -7"), file: "r.toml"),
                    mentions: ["r.toml:2", "'seed'", "-7", "UInt64"])
        struct Narrow: Decodable { var a: Int8; var b: UInt16; var c: Float }
        XCTAssertEqual(try ConfigDecoder.decode(Narrow.self, fromTOML: "a = -5\nb = 65535\nc = 2.5", file: "n.toml").b, 65535)
        assertError(try ConfigDecoder.decode(Narrow.self, fromTOML: "a = 300\nb = 1\nc = 1", file: "n.toml"), mentions: ["'a'", "300", "Int8"])
        assertError(try ConfigDecoder.decode(Narrow.self, fromTOML: "a = 1\nb = 1\nc = 1e300", file: "n.toml"), mentions: ["'c'", "1e+300"])
        // A scalar type the decoder does not know is refused, not recursed into.
        struct Loop: Decodable { init(from decoder: Decoder) throws { _ = try decoder.singleValueContainer().decode(Loop.self) } }
        struct Odd: Decodable { var when: Loop }
        assertError(try ConfigDecoder.decode(Odd.self, fromTOML: "when = 1.0", file: "o.toml"), mentions: ["'when'"])
    }

    /// Item 6: nesting is capped, in TOML arrays, inline tables, dotted keys and JSON.
    func testDeepNesting() {
        let n = 50_000
        assertError(try parseTOML("a = " + String(repeating: "[", count: n) + String(repeating: "]", count: n), file: "d.toml"),
                    mentions: ["d.toml:1", "nested more than 64"])
        assertError(try parseTOML("a = " + String(repeating: "{b = ", count: n) + "1" + String(repeating: "}", count: n), file: "d.toml"),
                    mentions: ["nested more than 64"])
        assertError(try parseTOML(Array(repeating: "k", count: n).joined(separator: ".") + " = 1", file: "d.toml"),
                    mentions: ["dotted parts"])
        assertError(try parseTOML("[" + Array(repeating: "k", count: n).joined(separator: ".") + "]", file: "d.toml"),
                    mentions: ["dotted parts"])
        assertError(try ConfigDecoder.decode(SweepConfig.self, fromJSON: String(repeating: "[", count: n) + String(repeating: "]", count: n),
                                             file: "d.json"), mentions: ["d.json", "nested more than 64"])
        assertError(try ConfigDecoder.decode(SweepConfig.self, fromJSON: String(repeating: "{\"a\":", count: n) + "1" + String(repeating: "}", count: n),
                                             file: "d.json"), mentions: ["nested more than 64"])
        // 64 levels are still fine.
        XCTAssertNoThrow(try parseTOML("a = " + String(repeating: "[", count: 64) + String(repeating: "]", count: 64)))
    }

    /// Items 3, 4, 10: every value of a sweep config is checked against its range.
    func testSweepConfigRanges() throws {
        XCTAssertNoThrow(try load(sweepTOML()))
        let cases: [((String, String), [String])] = [
            (("depth_step = 64", "depth_step = 0"), ["family.depth_step", "0"]),
            (("sizes = 3", "sizes = -1"), ["grid.sizes", "-1"]),
            (("sizes = 3", "sizes = [3]"), ["grid.sizes", "1 counts for 2 budgets"]),
            (("sizes = 3", "sizes = [3, 0]"), ["grid.sizes[1]", "0"]),
            (("sizes = 3", "sizes = [3, \"two\"]"), ["grid.sizes", "integer"]),
            (("sizes = 3", "sizes = \"three\""), ["grid.sizes"]),
            (("width = 100", "width = nan"), ["grid.width", "nan"]),
            (("budgets = [1e10, 2e10]", "budgets = [1e10, -2e10]"), ["budgets[1]", "-2"]),
            (("budgets = [1e10, 2e10]", "budgets = [1e10, inf]"), ["budgets[1]", "inf"]),
            (("budgets = [1e10, 2e10]", "budgets = [1e10, 1e10]"), ["budgets", "twice"]),
            (("batch = 8", "batch = 0"), ["batch", "0"]),
            (("vocab = 512", "vocab = 100000"), ["vocab", "100000"]),
            (("batch = 8", "batch = 8\nseed = -1"), ["seed", "-1"]),
            (("batch = 8", "batch = 8\neval_batches = 0"), ["eval_batches", "0"]),
            (("batch = 8", "batch = 8\nworkers = 0"), ["workers", "0"]),
            (("batch = 8", "batch = 8\nschedules = [\"matched\", \"matched\"]"), ["schedules", "twice"]),
            (("batch = 8", "batch = 8\nflops_per_second = 0"), ["flops_per_second"]),
            (("batch = 8", "batch = 8\nfixed_cycle = -1"), ["fixed_cycle", "-1"]),
            (("width = 100", "width = 100\n[lr]\nmin = 0.1\nmax = 0.01"), ["lr.min"]),
        ]
        for (edit, mentions) in cases { assertError(try load(sweepTOML([edit])), mentions: ["s.toml"] + mentions) }
        for bad in ["../../x", ".", "", "a/b", "a\\nb", "..", ".x", "a b", String(repeating: "n", count: 101)] {
            assertError(try load(sweepTOML([("name = \"t\"", "name = \"\(bad)\"")])), mentions: ["'name'"])
        }
        for good in ["quick", "laptop-2", "a.b_c"] { XCTAssertNoThrow(try load(sweepTOML([("name = \"t\"", "name = \"\(good)\"")]))) }
        // The planner checks too, for configs that did not come from a file.
        var c = try load(sweepTOML())
        c.family.depthStep = 0
        XCTAssertThrowsError(try Planner.plan(c))
    }

    /// Absurd shapes are refused before anything is allocated, naming the field.
    func testShapeLimits() {
        assertError(try GPTConfig(d: 1 << 40, layers: 1).validate(), mentions: ["d 1099511627776"])
        assertError(try GPTConfig(d: 32, layers: 1_000_000_000).validate(), mentions: ["layers 1000000000"])
        assertError(try GPTConfig(context: 100_000, d: 32, layers: 1).validate(), mentions: ["context 100000"])
        assertError(try GPTConfig(d: 4096, layers: 64).checkMemory(batch: 1, availableBytes: 1e9), mentions: ["GB"])
        var t = TrainConfig(model: GPTConfig(d: 32, layers: 1), steps: 10, schedule: LRSchedule(kind: .matched, peak: 1e-3, totalSteps: 10))
        t.batchSize = 10_000_000_000
        assertError(try t.validate(), mentions: ["batchSize 10000000000"])
        t.batchSize = 8
        t.evalBatches = 1 << 40
        assertError(try t.validate(), mentions: ["evalBatches"])
    }
}

final class StoreInputTests: XCTestCase {
    /// Item 9: reading never creates, migrates or changes a database that is not a run store.
    func testReadOnlyOpenLeavesForeignAndEmptyFilesAlone() throws {
        let dir = temporaryDirectory()
        let foreign = dir + "/other.sqlite"
        try SQLiteConnection(path: foreign).execute("CREATE TABLE notes(x); INSERT INTO notes VALUES (1)")
        let before = try Data(contentsOf: URL(fileURLWithPath: foreign))
        XCTAssertThrowsError(try openRunStore(foreign, readOnly: true)) { XCTAssertTrue("\($0)".contains("notes"), "\($0)") }
        XCTAssertThrowsError(try openRunStore(foreign)) { XCTAssertTrue("\($0)".contains("other tables"), "\($0)") }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: foreign)), before)
        XCTAssertFalse(FileManager.default.fileExists(atPath: foreign + "-wal"))

        let empty = dir + "/empty.sqlite"
        XCTAssertTrue(FileManager.default.createFile(atPath: empty, contents: nil))
        XCTAssertThrowsError(try openRunStore(empty, readOnly: true)) { XCTAssertTrue("\($0)".contains("empty"), "\($0)") }
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: empty)[.size] as? Int, 0)
        XCTAssertThrowsError(try openRunStore(dir + "/missing.sqlite", readOnly: true))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/missing.sqlite"))

        // A store of ours opens read-only, reads, and cannot be written through.
        let ours = dir + "/ours.sqlite"
        let sweep = try openRunStore(ours).createSweep(name: "s", configJSON: "{}", runs: try smallPlan())
        let reader = try openRunStore(ours, readOnly: true)
        XCTAssertEqual(try reader.runs(sweep: sweep).count, try smallPlan().count)
        XCTAssertNotNil(try reader.storeID())
        XCTAssertThrowsError(try reader.claimNextRun(sweep: sweep, worker: "w", host: "h", pid: 1, lease: 10))
    }

    /// Item 8: a worker refuses a run's checkpoint folder written for another store.
    func testCheckpointsBelongToTheirStore() throws {
        let dir = temporaryDirectory()
        let checkpoints = dir + "/checkpoints"
        let plan = try smallPlan(budgets: [1e10], schedules: [.matched], steps: 5)
        func sweep(_ name: String) throws -> (RunStore, WorkerReport) {
            let store = try openRunStore(dir + "/\(name).sqlite")
            _ = try store.createSweep(name: "s", configJSON: "{}", runs: plan)
            let worker = Worker(store: store, executor: CounterExecutor(), name: "w", checkpointRoot: checkpoints)
            return (store, try worker.runUntilDone())
        }
        let (a, ranA) = try sweep("a")
        XCTAssertEqual(ranA.done, plan.count)
        XCTAssertNotEqual(try a.storeID(), nil)
        let (b, ranB) = try sweep("b")
        XCTAssertEqual(ranB.done, 0)
        XCTAssertEqual(ranB.failed, plan.count)
        let failed = try b.runs(sweep: try XCTUnwrap(b.sweepID(named: "s")))
        XCTAssertTrue(failed.allSatisfy { ($0.message ?? "").contains("belongs to store") }, "\(failed.map(\.message))")
        XCTAssertNotEqual(try a.storeID(), try b.storeID())
    }

    /// Duplicate run keys (two budgets printing alike) are refused before the store's UNIQUE
    /// constraint would fail with a raw SQL error.
    func testDuplicateRunKeys() throws {
        var config = SweepConfig(name: "t", corpus: "c", trainTokens: "a", evalTokens: "b", tokenizer: "t", vocab: 512,
                                 budgets: [1e10], family: FamilyConfig(widths: [32]), batch: 8)
        config.budgetGrids = [BudgetGrid(flops: 1e10, shapes: [ShapeSpec(d: 32), ShapeSpec(d: 32)])]
        XCTAssertThrowsError(try Planner.plan(config)) { XCTAssertTrue("\($0)".contains("key"), "\($0)") }
    }

    /// Item 16: a server that accepts the connection and never answers does not hang the store.
    func testSilentPostgresServerTimesOut() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        XCTAssertEqual(withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }, 0)
        XCTAssertEqual(listen(fd, 8), 0)
        XCTAssertEqual(withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }, 0)
        let port = UInt16(bigEndian: address.sin_port)
        // The kernel completes the handshake from the listen backlog; nobody ever answers.
        let started = Date()
        XCTAssertThrowsError(try openRunStore("postgresql://u@127.0.0.1:\(port)/db?connect_timeout=2")) {
            XCTAssertTrue("\($0)".contains("cannot connect"), "\($0)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 20)
        // Without a timeout in the URL the default one applies.
        XCTAssertTrue(PostgresConnection.withDefaultTimeouts("postgresql://u@h/db").contains("connect_timeout=\(PostgresConnection.defaultConnectTimeout)"))
        XCTAssertEqual(PostgresConnection.withDefaultTimeouts("postgresql://u@h/db?connect_timeout=3"), "postgresql://u@h/db?connect_timeout=3")
    }
}
