// Several seeds per shape: `seeds = [1, 2, 3]` instead of `seed`, optionally only for the shapes
// nearest each budget's optimum (`[grid] seeds_near_optimum`). Runs of one shape differ only in seed.
import Foundation
import Model

extension SweepConfig {
    /// The seeds every run is trained with (the shapes `seeds_near_optimum` leaves out take the first).
    public var runSeeds: [Int] { seeds ?? [seed] }

    /// Reads `seeds`; giving `seed` as well is an error (which of the two would the runs use?).
    /// The first of `seeds` becomes `seed`, so code that takes one seed takes that one.
    mutating func decodeSeeds(_ c: KeyedDecodingContainer<CodingKeys>) throws {
        guard let list = try c.decodeIfPresent([Int].self, forKey: .seeds) else { return }
        if c.contains(.seed) {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath + [CodingKeys.seeds],
                                                    debugDescription: "give either seed or seeds, not both"))
        }
        seeds = list
        if let first = list.first { seed = first }
    }

    func validateSeeds(_ bad: (String, String) -> ConfigError) throws {
        if let seeds {
            guard !seeds.isEmpty else { throw bad("seeds", "is empty: give at least one seed (or `seed = N`)") }
            for (i, s) in seeds.enumerated() where s < 0 { throw bad("seeds[\(i)]", "\(s) must not be negative") }
            guard Set(seeds).count == seeds.count else { throw bad("seeds", "\(seeds) holds the same seed twice") }
        }
        guard grid.seedsNearOptimum >= 0 else {
            throw bad("grid.seeds_near_optimum", "\(grid.seedsNearOptimum) must not be negative (0: every shape gets every seed)")
        }
        if grid.seedsNearOptimum > 0, runSeeds.count < 2 {
            throw bad("grid.seeds_near_optimum", "\(grid.seedsNearOptimum) needs several seeds: give `seeds = [1, 2, 3]`")
        }
    }

    /// The config as the store keeps it (JSON). With `seeds`, `seed` is left out, so that the
    /// stored config decodes again (both keys together are an error).
    public func storedJSON() throws -> String {
        let data = try JSONEncoder().encode(self)
        guard seeds != nil, var object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            return String(decoding: data, as: UTF8.self)
        }
        object["seed"] = nil
        return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    /// The seeds of one shape of one budget: every seed, or only the first when
    /// `seeds_near_optimum` = K > 0 and the shape is not among the K of `shapes` nearest in ln N to
    /// `optimum` (ties go to the smaller shape).
    public func seeds(for model: GPTConfig, among shapes: [GPTConfig], optimum: Double) -> [Int] {
        let all = runSeeds
        let k = grid.seedsNearOptimum
        guard k > 0, all.count > 1, shapes.count > k else { return all }
        let target = log(optimum)
        let nearest = shapes.sorted {
            let a = abs(log(Double($0.parameters)) - target), b = abs(log(Double($1.parameters)) - target)
            return a != b ? a < b : $0.parameters < $1.parameters
        }.prefix(k)
        return nearest.contains(model) ? all : [all[0]]
    }
}
