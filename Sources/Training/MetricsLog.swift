// The metrics.csv of one run trained on its own (`isoflop train`): a row per step and per
// evaluation, kept up to the checkpoint when a run resumes.
import Foundation

/// metrics.csv: one row per step and per evaluation (`kind` tells them apart).
public final class MetricsLog {
    let handle: FileHandle

    /// Starts a fresh file, or, when resuming at step `k`, keeps the rows up to step `k`
    /// (rows after the checkpoint will be logged again).
    public init(path: String, keepingThrough step: Int?) throws {
        let header = "kind,step,tokens,lr,loss,grad_norm\n"
        var text = header
        if let step, let old = try? String(contentsOfFile: path, encoding: .utf8) {
            let kept = old.split(separator: "\n").dropFirst().filter { row in
                let fields = row.split(separator: ",", omittingEmptySubsequences: false)
                return fields.count > 1 && (Int(fields[1]) ?? .max) <= step
            }
            text += kept.map { $0 + "\n" }.joined()
        }
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)),
              let h = FileHandle(forWritingAtPath: path) else { throw TrainingError.unwritable(path: path) }
        h.seekToEndOfFile()
        handle = h
    }

    public func step(_ r: StepResult) {
        handle.write(Data("train,\(r.step),\(r.tokens),\(r.lr),\(r.loss),\(r.gradNorm)\n".utf8))
    }

    public func eval(step: Int, tokens: Int, loss: Double) {
        handle.write(Data("eval,\(step),\(tokens),,\(loss),\n".utf8))
    }
}
