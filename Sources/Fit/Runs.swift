// Inputs of the fitter: the runs of a sweep (final values, optional training curves), the errors,
// and the grouping of runs into budgets. (Which N a fit counts, `ParameterConvention`, is in Tensor.)
import Foundation
import Tensor

/// One point along a run's training curve: FLOPs and tokens spent so far, and the loss there.
public struct CurvePoint: Codable, Equatable, Sendable {
    public var flops: Double
    public var tokens: Double
    public var loss: Double

    public init(flops: Double, tokens: Double, loss: Double) {
        self.flops = flops
        self.tokens = tokens
        self.loss = loss
    }
}

/// One finished training run as the fitter sees it.
public struct FitRun: Codable, Equatable, Sendable {
    public var id: String
    /// The nominal FLOP budget C of the run's isoFLOP profile; 0 when the run belongs to none.
    public var budget: Double
    /// N, all parameters including embeddings (Chinchilla's count).
    public var parameters: Double
    /// N without the embeddings (Kaplan's count), when known.
    public var nonEmbeddingParameters: Double?
    /// D, training tokens seen.
    public var tokens: Double
    /// FLOPs actually used (close to `budget`); 0 when unknown (approach 3 then takes C = 6 N D).
    public var flops: Double
    public var finalLoss: Double
    public var schedule: String?
    /// The training curve, for approach 1; may be empty.
    public var curve: [CurvePoint]
    /// Optimizer steps the run took, when known (runs shorter than `FitOptions.minimumSteps` are
    /// left out of the fits).
    public var steps: Int? = nil

    public init(id: String, budget: Double, parameters: Double, nonEmbeddingParameters: Double? = nil,
                tokens: Double, flops: Double, finalLoss: Double, schedule: String? = nil,
                curve: [CurvePoint] = [], steps: Int? = nil) {
        self.steps = steps
        self.id = id
        self.budget = budget
        self.parameters = parameters
        self.nonEmbeddingParameters = nonEmbeddingParameters
        self.tokens = tokens
        self.flops = flops
        self.finalLoss = finalLoss
        self.schedule = schedule
        self.curve = curve
    }

    /// N under the given convention, or nil when the run does not know it.
    public func parameters(for convention: ParameterConvention) -> Double? {
        switch convention {
        case .total: return parameters
        case .nonEmbedding: return nonEmbeddingParameters
        }
    }
}

/// Everything that can go wrong reading runs or fitting them, with the offending value and where.
public enum FitError: Error, Equatable, CustomStringConvertible {
    case unreadableFile(path: String, reason: String)
    case missingColumn(String, file: String)
    case noRows(file: String)
    case wrongFieldCount(file: String, line: Int, expected: Int, found: Int)
    case malformedNumber(file: String, line: Int, column: String, text: String)
    case nonPositiveLoss(source: String, value: Double)
    case nonPositiveValue(source: String, column: String, value: Double)
    case missingNonEmbeddingParameters(run: String)
    case tooFewBudgets(found: Int)
    case tooFewSizes(budget: Double, found: Int)
    case noTrainingCurves
    case tooFewBracketedBudgets(approach: Int, kept: Int, total: Int)
    case noConvergence(approach: Int)
    case tooFewPoints(approach: Int, found: Int, needed: Int)
    case noSpread(approach: Int, column: String, value: Double)
    case outOfRange(source: String, column: String, value: Double, limit: Double)
    case nonFiniteResult(approach: Int, what: String)
    case allRunsTooShort(minimumSteps: Int, runs: Int)
    /// Approach 3's best law does not fall with N (A = 0) or with D (B = 0): the runs show no
    /// trade-off between the two, so no allocation is optimal.
    case flatLaw(column: String)

    public var description: String {
        switch self {
        case let .unreadableFile(path, reason):
            return "cannot read \(path): \(reason)"
        case let .missingColumn(name, file):
            return "\(file): missing column '\(name)' in the header"
        case let .noRows(file):
            return "\(file): no data rows after the header"
        case let .wrongFieldCount(file, line, expected, found):
            return "\(file) line \(line): \(found) fields, the header has \(expected)"
        case let .malformedNumber(file, line, column, text):
            return "\(file) line \(line): column '\(column)' is '\(text)', not a number"
        case let .nonPositiveLoss(source, value):
            return "\(source): loss \(value) is not positive (the fits take its logarithm)"
        case let .nonPositiveValue(source, column, value):
            return "\(source): \(column) = \(value) is not positive"
        case let .missingNonEmbeddingParameters(run):
            return "run \(run) has no non-embedding parameter count (column N_nonemb)"
        case let .tooFewBudgets(found):
            return "approaches 1 and 2 need at least 3 FLOP budgets of 3 or more sizes, the runs have \(found)"
        case let .tooFewSizes(budget, found):
            return "budget \(formatFLOPs(budget)) has \(found) distinct model sizes, and approaches 1 and 2 need 3 budgets of at least 3"
        case .noTrainingCurves:
            return "approach 1 needs training curves, and no run has one"
        case let .tooFewBracketedBudgets(approach, kept, total):
            return "approach \(approach): only \(kept) of \(total) budgets usable (optimum outside the sampled sizes); need 2"
        case let .noConvergence(approach):
            return "approach \(approach): no starting point led to a finite fit"
        case let .flatLaw(column):
            return "approach 3: the best fit of L = E + A/N^α + B/D^β has \(column == "N" ? "A" : "B") = 0 (the loss does not fall with \(column) "
                + "in these runs), so it has no compute-optimal allocation and no exponent"
        case let .tooFewPoints(approach, found, needed):
            return "approach \(approach) fits 5 parameters and needs at least \(needed) distinct (N, D) points, the runs have \(found)"
        case let .noSpread(approach, column, value):
            return "approach \(approach): every run has \(column) = \(formatCount(value)), so the law cannot tell how loss depends on \(column)"
        case let .outOfRange(source, column, value, limit):
            return "\(source): \(column) = \(value) is beyond \(limit), outside what the fits can represent"
        case let .allRunsTooShort(minimumSteps, runs):
            return "every one of the \(runs) runs took fewer than \(minimumSteps) steps; lower --min-steps to fit them"
        case let .nonFiniteResult(approach, what):
            return "approach \(approach): the fit gave a non-finite \(what); the data do not determine it"
        }
    }
}

/// Runs of one budget: the budget and the indices of its runs in the input array.
public struct BudgetGroup: Equatable, Sendable {
    public var budget: Double
    public var members: [Int]
}

/// Groups runs by their nominal budget (equal to 1e-6 relative), in increasing budget order.
public func groupByBudget(_ runs: [FitRun]) -> [BudgetGroup] {
    let order = runs.indices.sorted { runs[$0].budget < runs[$1].budget }
    var groups: [BudgetGroup] = []
    for i in order {
        if let last = groups.last, abs(runs[i].budget - last.budget) <= 1e-6 * last.budget {
            groups[groups.count - 1].members.append(i)
        } else {
            groups.append(BudgetGroup(budget: runs[i].budget, members: [i]))
        }
    }
    return groups
}

/// Checks every run can be fitted under `convention`: positive loss, N and D, and C positive or 0
/// (0: unknown, as in a CSV without a C column).
public func validateRuns(_ runs: [FitRun], convention: ParameterConvention) throws {
    for run in runs {
        guard run.finalLoss > 0 else { throw FitError.nonPositiveLoss(source: "run \(run.id)", value: run.finalLoss) }
        guard let n = run.parameters(for: convention) else {
            throw FitError.missingNonEmbeddingParameters(run: run.id)
        }
        guard n > 0 else { throw FitError.nonPositiveValue(source: "run \(run.id)", column: "N", value: n) }
        guard run.tokens > 0 else {
            throw FitError.nonPositiveValue(source: "run \(run.id)", column: "D", value: run.tokens)
        }
        guard run.flops >= 0 else { throw FitError.nonPositiveValue(source: "run \(run.id)", column: "C", value: run.flops) }
        // N·D and the FLOPs that follow from them must stay finite in Double.
        for (column, value, limit) in [("N", n, maximumCount), ("D", run.tokens, maximumCount), ("C", run.flops, maximumFLOPs)]
        where value > limit {
            throw FitError.outOfRange(source: "run \(run.id)", column: column, value: value, limit: limit)
        }
    }
}

/// The largest N or D the fits accept (far beyond any model trained, yet N·D·6 stays finite).
public let maximumCount = 1e30
/// The largest budget C the fits accept or forecast at.
public let maximumFLOPs = 1e60

/// The isoFLOP profiles approaches 1 and 2 need: the runs' budget groups (budget > 0) with at
/// least 3 distinct sizes, and the groups left out for having fewer. Throws when fewer than 3
/// budgets qualify (naming the first short budget when there is one).
public func isoFLOPGroups(_ runs: [FitRun]) throws -> (groups: [BudgetGroup], leftOut: [BudgetGroup]) {
    let all = groupByBudget(runs).filter { $0.budget > 0 }
    func sizes(_ g: BudgetGroup) -> Int { Set(g.members.map { runs[$0].parameters }).count }
    let usable = all.filter { sizes($0) >= 3 }, short = all.filter { sizes($0) < 3 }
    guard usable.count >= 3 else {
        if let first = short.first, all.count >= 3 { throw FitError.tooFewSizes(budget: first.budget, found: sizes(first)) }
        throw FitError.tooFewBudgets(found: usable.count)
    }
    return (usable, short)
}

/// Budgets in FLOPs separated by commas ("1e12, 3e12"); nil unless every one is a finite
/// positive number up to `maximumFLOPs`.
public func parseBudgets(_ text: String) -> [Double]? {
    let values = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
    guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 && $0! <= maximumFLOPs }) else { return nil }
    return values.map { $0! }
}

/// The counts of N a fit reports: those `asked`; else a sweep's own `params` when it counts N
/// without embeddings (Kaplan's convention); else both when every run has N_nonemb, else total.
public func parameterConventions(asked: [ParameterConvention]?, sweep: ParameterConvention?, runs: [FitRun]) -> [ParameterConvention] {
    if let asked { return asked }
    if sweep == .nonEmbedding { return [.nonEmbedding] }
    return runs.allSatisfy { $0.nonEmbeddingParameters != nil } ? [.total, .nonEmbedding] : [.total]
}
