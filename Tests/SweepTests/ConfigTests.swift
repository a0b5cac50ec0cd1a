// TOML reading, strict decoding (unknown keys, wrong types, line numbers) and the shipped configs.
import Foundation
import Sweep
import XCTest

final class TOMLTests: XCTestCase {
    func testValues() throws {
        let t = try parseTOML("""
            # a comment
            name = "a \\"q\\" \\u00e9\\n" # trailing comment
            lit = 'C:\\path'
            n = 1_000_000
            neg = -42
            big = 1e12
            small = 3e11
            x = -2.5e-3
            f = 0.5
            yes = true
            no = false
            list = [1, 2,
              3, # comment inside
            ]
            nested = [[1, 2], ["a"]]
            shapes = [{ d = 16, L = 1, head = 16 }, { d = 32 }]
            dotted.key = "v"
            "quoted key" = 1

            [table.sub]
            k = 7
            [[runs]]
            id = 1
            [[runs]]
            id = 2
            """)
        XCTAssertEqual(t["name"]?.value, .string("a \"q\" é\n"))
        XCTAssertEqual(t["lit"]?.value, .string("C:\\path"))
        XCTAssertEqual(t["n"]?.value, .integer(1_000_000))
        XCTAssertEqual(t["neg"]?.value, .integer(-42))
        XCTAssertEqual(t["big"]?.value, .float(1e12))
        XCTAssertEqual(t["small"]?.value, .float(3e11))
        XCTAssertEqual(t["x"]?.value, .float(-2.5e-3))
        XCTAssertEqual(t["f"]?.value, .float(0.5))
        XCTAssertEqual(t["yes"]?.value, .bool(true))
        XCTAssertEqual(t["no"]?.value, .bool(false))
        guard case .array(let list)? = t["list"]?.value else { return XCTFail("list") }
        XCTAssertEqual(list.map(\.value), [.integer(1), .integer(2), .integer(3)])
        XCTAssertEqual(list[2].line, 13)
        guard case .array(let nested)? = t["nested"]?.value, case .array(let inner)? = nested.last?.value else {
            return XCTFail("nested")
        }
        XCTAssertEqual(inner.map(\.value), [.string("a")])
        guard case .array(let shapes)? = t["shapes"]?.value, case .table(let s0) = shapes[0].value else {
            return XCTFail("shapes")
        }
        XCTAssertEqual(s0.keys, ["d", "L", "head"])
        XCTAssertEqual(s0["head"]?.value, .integer(16))
        guard case .table(let dotted)? = t["dotted"]?.value else { return XCTFail("dotted") }
        XCTAssertEqual(dotted["key"]?.value, .string("v"))
        XCTAssertEqual(t["quoted key"]?.value, .integer(1))
        guard case .table(let table)? = t["table"]?.value, case .table(let sub)? = table["sub"]?.value else {
            return XCTFail("table")
        }
        XCTAssertEqual(sub["k"]?.value, .integer(7))
        guard case .array(let runs)? = t["runs"]?.value, case .table(let r1) = runs[1].value else { return XCTFail("runs") }
        XCTAssertEqual(runs.count, 2)
        XCTAssertEqual(r1["id"]?.value, .integer(2))
    }

    func assertSyntaxError(_ text: String, line: Int, column: Int? = nil, contains: String,
                           file: StaticString = #filePath, fileLine: UInt = #line) {
        XCTAssertThrowsError(try parseTOML(text, file: "x.toml"), file: file, line: fileLine) { error in
            guard case let ConfigError.syntax(f, l, c, message) = error else {
                return XCTFail("not a syntax error: \(error)", file: file, line: fileLine)
            }
            XCTAssertEqual(f, "x.toml", file: file, line: fileLine)
            XCTAssertEqual(l, line, "\(error)", file: file, line: fileLine)
            if let column { XCTAssertEqual(c, column, "\(error)", file: file, line: fileLine) }
            XCTAssertTrue(message.contains(contains), "\(error)", file: file, line: fileLine)
            XCTAssertTrue("\(error)".hasPrefix("x.toml:\(line):"), file: file, line: fileLine)
        }
    }

    func testErrorsNameLineAndColumn() {
        assertSyntaxError("a = 1\nb 2\n", line: 2, column: 3, contains: "expected '='")
        assertSyntaxError("a = 1\na = 2\n", line: 2, column: 1, contains: "duplicate key 'a'")
        assertSyntaxError("a = \"open\n", line: 1, contains: "unterminated string")
        assertSyntaxError("\n\nx = [1, 2\ny = 3", line: 4, contains: "expected ',' or ']'")
        assertSyntaxError("x = 1 2", line: 1, column: 7, contains: "end of the line")
        assertSyntaxError("x = 1.2.3", line: 1, column: 5, contains: "malformed")
        assertSyntaxError("x = tru", line: 1, contains: "expected a value")
        assertSyntaxError("[t\nx = 1", line: 1, contains: "']'")
    }
}

struct Inner: Codable, Equatable {
    var d: Int
    var head: Int?
}

struct Outer: Codable, Equatable {
    var name: String
    var budget: Double
    var count: Int
    var inner: Inner
    var list: [Inner]
}

final class ConfigDecoderTests: XCTestCase {
    let good = """
        name = "x"
        budget = 3e11
        count = 1e6
        inner = { d = 32 }
        list = [{ d = 16, head = 16 }]
        """

    func testDecodes() throws {
        let v = try ConfigDecoder.decode(Outer.self, fromTOML: good, file: "g.toml")
        XCTAssertEqual(v, Outer(name: "x", budget: 3e11, count: 1_000_000, inner: Inner(d: 32, head: nil),
                                list: [Inner(d: 16, head: 16)]))
        let json = #"{"name": "x", "budget": 3e11, "count": 1000000, "inner": {"d": 32}, "list": [{"d": 16, "head": 16}]}"#
        XCTAssertEqual(try ConfigDecoder.decode(Outer.self, fromJSON: json, file: "g.json"), v)
    }

    func testUnknownKeyNamesKeyAndLine() {
        XCTAssertThrowsError(try ConfigDecoder.decode(Outer.self, fromTOML: good + "\nbudgt = 1", file: "c.toml")) {
            XCTAssertEqual($0 as? ConfigError, .unknownKey(file: "c.toml", key: "budgt", line: 6))
            XCTAssertEqual("\($0)", "c.toml:6: unknown key 'budgt'")
        }
        let nested = good.replacingOccurrences(of: "[{ d = 16, head = 16 }]", with: "[\n  { d = 16, heads = 16 }]")
        XCTAssertThrowsError(try ConfigDecoder.decode(Outer.self, fromTOML: nested, file: "c.toml")) {
            XCTAssertEqual($0 as? ConfigError, .unknownKey(file: "c.toml", key: "list[0].heads", line: 6))
        }
        let json = "{\"name\": \"x\",\n \"extra\": 1}"
        XCTAssertThrowsError(try ConfigDecoder.decode(Outer.self, fromJSON: json, file: "c.json")) {
            XCTAssertEqual($0 as? ConfigError, .unknownKey(file: "c.json", key: "extra", line: 2))
        }
    }

    func testTypeAndMissingErrors() {
        let wrong = good.replacingOccurrences(of: "count = 1e6", with: "count = 1.5")
        XCTAssertThrowsError(try ConfigDecoder.decode(Outer.self, fromTOML: wrong, file: "c.toml")) {
            XCTAssertEqual($0 as? ConfigError, .typeMismatch(file: "c.toml", key: "count", line: 3,
                                                             expected: "an integer", found: "float"))
        }
        let text = good.replacingOccurrences(of: "name = \"x\"", with: "name = 3")
        XCTAssertThrowsError(try ConfigDecoder.decode(Outer.self, fromTOML: text, file: "c.toml")) {
            XCTAssertEqual($0 as? ConfigError, .typeMismatch(file: "c.toml", key: "name", line: 1,
                                                             expected: "a string", found: "integer"))
        }
        let missing = good.replacingOccurrences(of: "budget = 3e11\n", with: "")
        XCTAssertThrowsError(try ConfigDecoder.decode(Outer.self, fromTOML: missing, file: "c.toml")) {
            XCTAssertEqual($0 as? ConfigError, .missingKey(file: "c.toml", key: "budget", line: 1))
        }
    }

    static let configs = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("configs")

    func testShippedConfigsLoadAndPlan() throws {
        for name in ["quick", "laptop", "gcide"] {
            let config = try SweepConfig.load(path: Self.configs.appendingPathComponent("\(name).toml").path)
            XCTAssertEqual(config.name, name)
            let plan = try Planner.plan(config)
            XCTAssertFalse(plan.runs.isEmpty)
            XCTAssertEqual(Set(plan.runs.map(\.key)).count, plan.runs.count, "run keys are unique")
        }
        let laptop = try SweepConfig.load(path: Self.configs.appendingPathComponent("laptop.toml").path)
        XCTAssertEqual(laptop.vocab, 512)
        XCTAssertEqual(laptop.budgets, [3e11, 6e11, 1.2e12, 2.5e12, 5e12, 1e13])
        XCTAssertEqual(Set(laptop.schedules), [.matched, .fixed])
        let plan = try Planner.plan(laptop)
        // Under an hour on two workers at the fallback throughput (the config leaves the rate to
        // be measured).
        XCTAssertNil(laptop.flopsPerSecond)
        let model = ThroughputModel(flopsPerSecond: Calibration.fallbackFLOPsPerSecond, overheadPerToken: laptop.overheadPerToken)
        XCTAssertLessThan(estimateWallSeconds(plan.runs.map(model.seconds), workers: 2), 3600)
    }

    func testSweepConfigRoundTripsThroughJSON() throws {
        // `sweep resume` reads the config back from the JSON stored with the sweep.
        let config = try SweepConfig.load(path: Self.configs.appendingPathComponent("laptop.toml").path)
        let json = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
        XCTAssertEqual(try ConfigDecoder.decode(SweepConfig.self, fromJSON: json, file: "stored"), config)
    }

    func testUnknownKeyInSweepConfigFile() throws {
        let dir = temporaryDirectory()
        let path = (dir as NSString).appendingPathComponent("bad.toml")
        var text = try String(contentsOf: Self.configs.appendingPathComponent("quick.toml"), encoding: .utf8)
        text = text.replacingOccurrences(of: "[grid]\n", with: "[grid]\nsize = 3\n")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let line = text.components(separatedBy: "\n").firstIndex(of: "size = 3")! + 1
        XCTAssertThrowsError(try SweepConfig.load(path: path)) {
            XCTAssertEqual($0 as? ConfigError, .unknownKey(file: path, key: "grid.size", line: line))
        }
    }
}
