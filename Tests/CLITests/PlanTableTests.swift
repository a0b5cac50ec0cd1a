// `sweep plan`'s summary through the real tool: what is trained, and what is shared.
import Foundation
import XCTest

final class PlanTableTests: XCTestCase {
    /// A wsd sweep's summary says how many runs branch from a trunk and counts only the tokens
    /// the branches train (their cooldowns), not their whole length.
    func testWSDBranchesAreNamedInThePlanSummary() throws {
        let dir = try temporaryFolder()
        let config = dir + "/wsd.toml"
        try CLI.quickConfig([(old: "schedules = [\"matched\", \"fixed\"]", new: "schedules = [\"wsd\"]")])
            .write(toFile: config, atomically: true, encoding: .utf8)
        let r = try CLI.capture(["sweep", "plan", config])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        guard let planned = lines.first(where: { $0.hasPrefix("planned ") }), let trained = lines.first(where: { $0.hasPrefix("trained ") }) else {
            return XCTFail("no summary lines in:\n\(r.stdout)")
        }
        // Every budget has the same three shapes, so each shape is one trunk and two branches.
        XCTAssertTrue(trained.contains("6 wsd branches train only their cooldown"), trained)
        func tokens(_ line: String) -> Double? {
            guard let comma = line.range(of: " tokens") else { return nil }
            return Double(line[..<comma.lowerBound].split(separator: " ").last ?? "")
        }
        let all = try XCTUnwrap(tokens(planned)), own = try XCTUnwrap(tokens(trained))
        XCTAssertLessThan(own, 0.7 * all, "the branches' shared steps are not counted again")
    }
}
