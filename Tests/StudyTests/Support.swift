// What the Study tests share: a small sweep config and temporary folders.
import Foundation
import Sweep
import XCTest

/// A tiny sweep: three small shapes at two budgets, the matched schedule, data paths that need
/// not exist (planning never reads them).
func tinyConfig(name: String = "tiny") throws -> SweepConfig {
    let toml = """
        name = "\(name)"
        corpus = "none"
        train_tokens = "train.u16"
        eval_tokens = "validation.u16"
        tokenizer = "tokenizer.json"
        vocab = 512
        budgets = [1e11, 2e11]
        batch = 8
        context = 128
        schedules = ["matched"]
        eval_every = 25
        eval_batches = 1
        checkpoint_every = 50
        [family]
        widths = [32]
        depth_step = 64
        shapes = [{ d = 16, L = 1, head = 16 }, { d = 48, L = 1, head = 48 }]
        [grid]
        sizes = 3
        width = 100
        coefficient = 2.2e-3
        exponent = 0.62
        """
    return try ConfigDecoder.decode(SweepConfig.self, fromTOML: toml, file: "tiny.toml")
}

extension XCTestCase {
    /// A new empty folder in the temporary directory, removed when the test ends.
    func temporaryFolder() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("isoflop-study-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }
}

/// Marks every planned run of the sweep that `keep` accepts (all by default) done, as if
/// trained, with the final loss `loss` gives it (the store must be SQLite).
func finishRuns(_ store: RunStore, sweep: Int64, where keep: (RunRecord) -> Bool = { _ in true },
                loss: (PlannedRun) -> Double) throws {
    let db = try XCTUnwrap(store as? SQLiteRunStore).db
    for r in try store.runs(sweep: sweep) where r.status == .planned && keep(r) {
        let l = loss(r.plan)
        try db.query("UPDATE runs SET status = 'done', final_train_loss = ?, final_eval_loss = ? WHERE id = ?",
                     [.double(l), .double(l), .int(Int(r.id))])
    }
}

/// A loss whose isoFLOP profile in ln N is a parabola with its minimum at `optimum`.
func parabolicLoss(optimum: Double) -> (PlannedRun) -> Double {
    { run in
        let u = log(Double(run.parameters) / optimum)
        return 3 + 0.1 * u * u + 1e-3 * log(run.budget)
    }
}
