// The arithmetic of grids that follow the optimum: vertices, which side gets extra shapes, and
// the prediction that centres the next budget.
import Fit
import Foundation
import XCTest

final class AdaptiveGridTests: XCTestCase {
    /// A profile loss = 3 + 0.2 (ln N − ln N*)² sampled at five sizes a factor 2 apart.
    func profile(budget: Double = 1e12, optimum: Double, from lowest: Double) -> ProfileVertex? {
        let ns = (0..<5).map { lowest * pow(2, Double($0)) }
        return profileVertex(budget: budget, parameters: ns, losses: ns.map { 3 + 0.2 * pow(log($0 / optimum), 2) })
    }

    func testVertexAndTheSideThatNeedsShapes() throws {
        // Sizes 1e4 … 1.6e5; ln-positions: 0 at 1e4, 1 at 1.6e5.
        let middle = try XCTUnwrap(profile(optimum: 4e4, from: 1e4))
        XCTAssertEqual(middle.parameters!, 4e4, accuracy: 1e-6)
        XCTAssertEqual(middle.position!, 0.5, accuracy: 1e-9)
        XCTAssertNil(extraShapes(middle), "a vertex in the middle half needs nothing")
        // Position 0.8 (upper quarter): one shape above; 0.1: one below.
        let upper = try XCTUnwrap(profile(optimum: 1e4 * pow(16, 0.8), from: 1e4))
        XCTAssertEqual(extraShapes(upper)?.side, .above)
        XCTAssertEqual(extraShapes(upper)?.count, 1)
        let lower = try XCTUnwrap(profile(optimum: 1e4 * pow(16, 0.1), from: 1e4))
        XCTAssertEqual(extraShapes(lower)?.side, .below)
        XCTAssertEqual(extraShapes(lower)?.count, 1)
        // Beyond the sizes: two shapes on that side.
        let beyond = try XCTUnwrap(profile(optimum: 5e5, from: 1e4))
        XCTAssertEqual(extraShapes(beyond)?.side, .above)
        XCTAssertEqual(extraShapes(beyond)?.count, 2)
        // No minimum (the loss falls all the way): two on the side of the lower loss.
        let ns = [1e4, 2e4, 4e4, 8e4]
        let falling = try XCTUnwrap(profileVertex(budget: 1e12, parameters: ns, losses: ns.map { 4 - 0.01 * pow(log($0), 2) }))
        XCTAssertNil(falling.parameters)
        XCTAssertEqual(extraShapes(falling)?.side, .above)
        XCTAssertEqual(extraShapes(falling)?.count, 2)
        XCTAssertNil(profileVertex(budget: 1e12, parameters: [1e4, 2e4], losses: [3, 2.9]), "two sizes make no parabola")
    }

    /// The centring arithmetic: with two or more vertices on N* = 2e-3 C^0.55, the prediction at the
    /// next budget is that line's; with one, the config's exponent through it; with none, the config's.
    func testPredictionFromTheBudgetsSoFar() throws {
        let law = { (c: Double) in 2e-3 * pow(c, 0.55) }
        let vs = try [3e11, 6e11, 1.2e12].map { c in try XCTUnwrap(profile(budget: c, optimum: law(c), from: law(c) / 4)) }
        let two = predictOptimum(budget: 2.5e12, vertices: Array(vs.prefix(2)), coefficient: 1, exponent: 0.9)
        XCTAssertEqual(two.parameters / law(2.5e12), 1, accuracy: 1e-6)
        XCTAssertTrue(two.how.contains("approach 2") && two.how.contains("a = 0.55"), two.how)
        let three = predictOptimum(budget: 5e12, vertices: vs, coefficient: 1, exponent: 0.9)
        XCTAssertEqual(three.parameters / law(5e12), 1, accuracy: 1e-6)
        let one = predictOptimum(budget: 6e11, vertices: [vs[0]], coefficient: 1, exponent: 0.5)
        XCTAssertEqual(one.parameters, law(3e11) * pow(2, 0.5), accuracy: 1e-6 * law(3e11))
        let none = predictOptimum(budget: 1e12, vertices: [], coefficient: 2.2e-3, exponent: 0.62)
        XCTAssertEqual(none.parameters, 2.2e-3 * pow(1e12, 0.62), accuracy: 1e-6)
        XCTAssertTrue(none.how.contains("config"))
    }
}
