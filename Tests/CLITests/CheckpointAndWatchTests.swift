// Refusals of the second hostile round (issue 25) through the real tool: a checkpoint folder
// holding a user's files is refused and left as it was; a watch interval that is not a positive
// finite number of seconds is refused like 0.
import Foundation
import Sweep
import XCTest

final class CheckpointAndWatchTests: XCTestCase {
    /// Item 3: `ck/run-1/` holding a user's file, with no store marker, was taken over and the
    /// file deleted by the first run's checkpoint.
    func testCheckpointFolderWithAUsersFilesIsRefusedUntouched() throws {
        let dir = try temporaryFolder()
        let config = dir + "/quick.toml"
        try CLI.quickConfig([]).write(toFile: config, atomically: true, encoding: .utf8)
        let ck = dir + "/ck"
        try FileManager.default.createDirectory(atPath: ck + "/run-1", withIntermediateDirectories: true)
        try "mine".write(toFile: ck + "/run-1/notes.txt", atomically: true, encoding: .utf8)
        let r = try CLI.capture(["sweep", "run", config, "--store", dir + "/s.sqlite", "--checkpoints", ck, "--dry-run", "50"])
        XCTAssertEqual(r.status, 1, r.stderr)
        let message = r.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(message.split(separator: "\n").count, 1, message)
        XCTAssertTrue(message.contains("run-1/notes.txt") && message.contains(ck), message)
        XCTAssertEqual(try String(contentsOfFile: ck + "/run-1/notes.txt", encoding: .utf8), "mine")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: ck).sorted(), ["run-1"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/s.sqlite"), "nothing written before the refusal")
    }

    /// Item 13: `--watch nan` redrew in a tight loop; inf and negative intervals are no better.
    func testWatchIntervalMustBePositiveAndFinite() throws {
        let dir = try temporaryFolder()
        for value in ["nan", "inf", "-1", "0"] {
            let r = try CLI.capture(["sweep", "status", "--store", dir + "/none.sqlite", "--watch=\(value)"], timeout: 30)
            XCTAssertEqual(r.status, 64, "\(value): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("--watch") && r.stderr.contains("positive, finite"), r.stderr)
        }
    }
}
