// Several runs of one shape in one budget (different seeds): the fits see one point per shape, its
// loss the median (or mean) of the seeds', and a run-resampling bootstrap redraws the seeds within
// each shape, so seed noise enters the intervals (a two-stage bootstrap, Davison & Hinkley 1997, §3.8).
import Foundation
import Tensor

/// How the seeds of one shape are combined.
public enum SeedAggregate: String, Codable, CaseIterable, Sendable {
    case median
    case mean

    public func combine(_ values: [Double]) -> Double {
        switch self {
        case .mean: return values.reduce(0, +) / Double(values.count)
        case .median:
            let s = values.sorted(), m = s.count / 2
            return s.count % 2 == 1 ? s[m] : 0.5 * (s[m - 1] + s[m])
        }
    }
}

/// The spread of one shape's seeds.
public struct SeedSpread: Codable, Equatable, Sendable {
    public var budget: Double
    public var parameters: Double
    public var tokens: Double
    public var seeds: Int
    public var lowest: Double
    public var highest: Double
    /// Sample standard deviation of the seeds' final losses.
    public var standardDeviation: Double
}

/// A seed of a shape that ended more than `threshold` above the median of its shape's seeds: the
/// signature of a run stuck on the early loss plateau (short two-layer runs, measured up to 0.65
/// nats). It is left out of its shape's combined loss and of the bootstrap's redraws, and reported.
public struct PlateauRun: Codable, Equatable, Sendable, CustomStringConvertible {
    /// Loss above the median of the shape's seeds beyond which a seed is flagged.
    public static let threshold = 0.15

    public var id: String
    public var budget: Double
    public var parameters: Double
    public var loss: Double
    /// Median of all the shape's seeds, this one included.
    public var shapeMedian: Double

    /// One line for people, as the fit's notes and the report show it.
    public var description: String {
        String(format: "stuck on the early plateau: %@ ended at %.3f nats, %.2f above the median %.3f of its shape's seeds; "
               + "left out of that shape's loss", id, loss, loss - shapeMedian, shapeMedian)
    }
}

/// Runs grouped by shape: same budget, N and D (to 1e-9 relative).
struct SeedGroups {
    /// One point per shape: the first seed's run with the combined loss.
    var points: [FitRun]
    /// Indices into the original runs, per point.
    var members: [[Int]]
    /// The losses each point combines: its seeds' final losses less the plateau runs'.
    var losses: [[Double]]
    var how: SeedAggregate
    var plateau: [PlateauRun] = []
    /// Every seed's final loss per point, plateau runs included (for the spreads).
    var allLosses: [[Double]]

    init(_ runs: [FitRun], how: SeedAggregate) {
        self.how = how
        func same(_ x: Double, _ y: Double) -> Bool { abs(x - y) <= 1e-9 * max(abs(x), abs(y)) }
        let order = runs.indices.sorted {
            (runs[$0].budget, runs[$0].parameters, runs[$0].tokens) < (runs[$1].budget, runs[$1].parameters, runs[$1].tokens)
        }
        var groups: [[Int]] = []
        for i in order {
            if let last = groups.last?.first, same(runs[last].budget, runs[i].budget),
               same(runs[last].parameters, runs[i].parameters), same(runs[last].tokens, runs[i].tokens) {
                groups[groups.count - 1].append(i)
            } else {
                groups.append([i])
            }
        }
        // Keep the input order of each shape's first run, so single-seed data passes through unchanged.
        groups.sort { $0.min()! < $1.min()! }
        members = groups.map { $0.sorted() }
        allLosses = members.map { $0.map { runs[$0].finalLoss } }
        losses = []
        for (m, all) in zip(members, allLosses) {
            let median = SeedAggregate.median.combine(all)
            let stuck = m.filter { runs[$0].finalLoss > median + PlateauRun.threshold }
            plateau += stuck.map {
                PlateauRun(id: runs[$0].id, budget: runs[$0].budget, parameters: runs[$0].parameters,
                           loss: runs[$0].finalLoss, shapeMedian: median)
            }
            losses.append(all.filter { $0 <= median + PlateauRun.threshold })
        }
        points = []
        for (k, m) in members.enumerated() {
            var p = runs[m[0]]
            if m.count > 1 {
                p.finalLoss = how.combine(losses[k])
                p.id += " (\(m.count) seeds)"
                // Approach 1 follows the curve of the seed whose final loss is nearest the combined one.
                let nearest = m.min { abs(runs[$0].finalLoss - p.finalLoss) < abs(runs[$1].finalLoss - p.finalLoss) }!
                p.curve = runs[nearest].curve
            }
            points.append(p)
        }
    }

    var hasSeeds: Bool { members.contains { $0.count > 1 } }

    var spreads: [SeedSpread] {
        members.indices.filter { members[$0].count > 1 }.map { k in
            let l = allLosses[k], mean = l.reduce(0, +) / Double(l.count)
            let sd = (l.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(l.count - 1)).squareRoot()
            return SeedSpread(budget: points[k].budget, parameters: points[k].parameters, tokens: points[k].tokens,
                              seeds: l.count, lowest: l.min()!, highest: l.max()!, standardDeviation: sd)
        }
    }

    /// The points' losses with every shape's seeds drawn with replacement and combined again.
    func resampledLosses(_ rng: inout SplitMix64) -> [Double] {
        losses.map { l in
            l.count == 1 ? l[0] : how.combine(l.indices.map { _ in l[rng.below(l.count)] })
        }
    }
}
