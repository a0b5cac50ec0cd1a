// Why a run is in its sweep, stored in the runs' `origin` and `lr_multiplier` columns (schema
// step `StoreSchema.runOrigins`), so that a later step reads it as a value, never from prose.
import Foundation

public enum RunOrigin: Equatable, Hashable, Sendable {
    /// The config's grid (and every run of a store written before origins were stored).
    case grid
    /// An adaptive grid's budget, centred on the optimum predicted from the budgets before it.
    case centred
    /// An adaptive grid's shape beyond an edge of its budget's sizes, where the vertex sat near it.
    case extraShape
    /// The learning-rate pilot: the rule's peak LR (before its clipping) times `multiplier`.
    case pilot(multiplier: Double)

    /// The `origin` column's value.
    public var column: String {
        switch self {
        case .grid: return "grid"
        case .centred: return "centred"
        case .extraShape: return "extra"
        case .pilot: return "pilot"
        }
    }

    /// The `lr_multiplier` column's value.
    public var multiplier: Double? {
        if case .pilot(let m) = self { return m }
        return nil
    }

    /// Reads the two columns; NULL (a store read-only before its migration) is the grid.
    /// A value this isoflop does not know is an error naming it.
    public init(column: String?, multiplier: Double?) throws {
        switch column {
        case nil, "grid": self = .grid
        case "centred": self = .centred
        case "extra": self = .extraShape
        case "pilot":
            guard let multiplier, multiplier.isFinite, multiplier > 0 else {
                throw StoreError.badColumn(column: "lr_multiplier", value: multiplier.map { "\($0)" } ?? "NULL")
            }
            self = .pilot(multiplier: multiplier)
        case let other?: throw StoreError.badColumn(column: "origin", value: other)
        }
    }
}
