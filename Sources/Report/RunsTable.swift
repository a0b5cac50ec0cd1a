// The runs table: one row per run of a sweep (shape, counts, budget, schedule, learning rate,
// outcome), as CSV that pandas, R and `isoflop fit` read with no options, and as JSON.
import Foundation
import Tensor

/// One run of a sweep as the runs table lists it. Losses, throughput and wall time are nil
/// until the run has them.
public struct RunsTableRow: Equatable, Sendable {
    public var id: Int
    public var sweep: String
    public var key: String
    public var schedule: String
    /// The FLOP budget C the run was sized for.
    public var budget: Double
    public var d: Int
    public var layers: Int
    public var headSize: Int
    /// N: every parameter, embeddings included (Chinchilla).
    public var parameters: Int
    /// N without the token and position embeddings (Kaplan et al. 2020).
    public var nonEmbeddingParameters: Int
    /// Training FLOPs per token by Hoffmann et al. 2022, Appendix F (what the budget counts).
    public var flopsPerToken: Double
    /// 6N per token (Kaplan et al. 2020), for comparison.
    public var flopsPerToken6N: Double
    public var steps: Int
    /// D: tokens trained on.
    public var tokens: Int
    /// C: FLOPs the run spends, steps × batch tokens × Appendix F FLOPs per token.
    public var flops: Double
    public var epochs: Double
    public var peakLR: Double
    public var seed: Int
    public var status: String
    public var finalTrainLoss: Double?
    public var finalEvalLoss: Double?
    public var tokensPerSecond: Double?
    public var wallSeconds: Double?

    public init(id: Int, sweep: String, key: String, schedule: String, budget: Double, d: Int, layers: Int,
                headSize: Int, parameters: Int, nonEmbeddingParameters: Int, flopsPerToken: Double,
                flopsPerToken6N: Double, steps: Int, tokens: Int, flops: Double, epochs: Double, peakLR: Double,
                seed: Int, status: String, finalTrainLoss: Double? = nil, finalEvalLoss: Double? = nil,
                tokensPerSecond: Double? = nil, wallSeconds: Double? = nil) {
        self.id = id
        self.sweep = sweep
        self.key = key
        self.schedule = schedule
        self.budget = budget
        self.d = d
        self.layers = layers
        self.headSize = headSize
        self.parameters = parameters
        self.nonEmbeddingParameters = nonEmbeddingParameters
        self.flopsPerToken = flopsPerToken
        self.flopsPerToken6N = flopsPerToken6N
        self.steps = steps
        self.tokens = tokens
        self.flops = flops
        self.epochs = epochs
        self.peakLR = peakLR
        self.seed = seed
        self.status = status
        self.finalTrainLoss = finalTrainLoss
        self.finalEvalLoss = finalEvalLoss
        self.tokensPerSecond = tokensPerSecond
        self.wallSeconds = wallSeconds
    }

    /// The loss a fit takes: the final eval loss, else the final train loss; only for done runs.
    public var loss: Double? { status == "done" ? finalEvalLoss ?? finalTrainLoss : nil }

    /// "d=64 L=2", with the head size when it is not the default 32 ("d=16 L=1 head 16").
    public var shape: String { "d=\(d) L=\(layers)" + (headSize == 32 ? "" : " head \(headSize)") }
}

/// The runs table's columns, in file order. `N`, `N_nonemb`, `D`, `C`, `loss`, `budget`,
/// `schedule`, `status` and `id` are the names `isoflop fit` reads from a CSV.
public let runsTableColumns = [
    "id", "sweep", "key", "schedule", "budget", "d", "L", "head_size", "N", "N_nonemb",
    "flops_per_token", "flops_per_token_6N", "steps", "D", "C", "epochs", "peak_lr", "seed", "status",
    "loss", "final_train_loss", "final_eval_loss", "tokens_per_second", "wall_seconds",
]

extension RunsTableRow {
    /// The row's values in `runsTableColumns` order: numbers as shortest round-trip text, text as
    /// it is, nil for a missing value.
    fileprivate var cells: [(text: String?, isNumber: Bool)] {
        func n(_ v: Double?) -> (String?, Bool) { (v.flatMap { $0.isFinite ? number($0) : nil }, true) }
        func i(_ v: Int) -> (String?, Bool) { (String(v), true) }
        func t(_ s: String) -> (String?, Bool) { (s, false) }
        return [i(id), t(sweep), t(key), t(schedule), n(budget), i(d), i(layers), i(headSize), i(parameters),
                i(nonEmbeddingParameters), n(flopsPerToken), n(flopsPerToken6N), i(steps), i(tokens), n(flops),
                n(epochs), n(peakLR), i(seed), t(status), n(loss), n(finalTrainLoss), n(finalEvalLoss),
                n(tokensPerSecond), n(wallSeconds)]
    }
}

/// CSV text: a header of `runsTableColumns`, one line per run, missing values as empty fields.
public func runsTableCSV(_ rows: [RunsTableRow]) -> String {
    var text = runsTableColumns.joined(separator: ",") + "\n"
    for row in rows {
        text += row.cells.map { $0.text.map(csvField) ?? "" }.joined(separator: ",") + "\n"
    }
    return text
}

/// JSON text: a list of objects keyed by `runsTableColumns`, missing values as null.
public func runsTableJSON(_ rows: [RunsTableRow]) -> String {
    let objects = rows.map { row in
        "  {" + zip(runsTableColumns, row.cells).map { name, cell in
            let value = cell.text.map { cell.isNumber ? $0 : jsonQuoted($0) } ?? "null"
            return "\(jsonQuoted(name)): \(value)"
        }.joined(separator: ", ") + "}"
    }
    return "[\n" + objects.joined(separator: ",\n") + "\n]\n"
}

/// Writes `<sweep>-runs.csv` or `.json` into `dir` (created if missing); returns its path.
@discardableResult
public func exportRunsTable(_ rows: [RunsTableRow], sweep: String, format: ExportFormat, to dir: String) throws -> String {
    do {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    } catch {
        throw ExportError.cannotCreateDirectory(path: dir, reason: error.localizedDescription)
    }
    let stem = exportFileName(sweep: sweep, runID: nil, format: format).replacingOccurrences(of: "-curves.", with: "-runs.")
    let path = (dir as NSString).appendingPathComponent(stem)
    try writeText(format == .csv ? runsTableCSV(rows) : runsTableJSON(rows), to: path)
    return path
}
