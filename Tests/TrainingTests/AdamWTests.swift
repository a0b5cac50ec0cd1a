import Model
import Training
import XCTest

final class AdamWTests: XCTestCase {
    // Two one-element tensors: the first decays, the second does not. lr 0.1, wd 0.1,
    // β1 0.9, β2 0.95.
    func testTwoStepsAgainstHandComputedValues() {
        let table = [ParameterInfo(name: "w", shape: [1], offset: 0, decays: true),
                     ParameterInfo(name: "b", shape: [1], offset: 1, decays: false)]
        let adam = AdamW(table: table, count: 2)
        var p: [Float] = [1, 2]
        // Step 1, g = (0.5, −1): bias-corrected m̂ = g and v̂ = g², so each moves by lr·sign(g);
        // the decaying one first shrinks by 1 − 0.1·0.1.
        p.withUnsafeMutableBufferPointer { adam.step(parameters: $0.baseAddress!, gradients: [0.5, -1], lr: 0.1) }
        XCTAssertEqual(p[0], 0.89, accuracy: 1e-6)
        XCTAssertEqual(p[1], 2.1, accuracy: 1e-6)
        // Step 2, g = (1, 0): m = (0.145, −0.09), v = (0.061875, 0.0475); corrections
        // 1 − 0.9² = 0.19 and 1 − 0.95² = 0.0975.
        // w: 0.89·0.99 − 0.1·(0.145/0.19)/√(0.061875/0.0975) = 0.881100 − 0.095799 = 0.785301
        // b: 2.1 + 0.1·(0.09/0.19)/√(0.0475/0.0975) = 2.1 + 0.067865
        p.withUnsafeMutableBufferPointer { adam.step(parameters: $0.baseAddress!, gradients: [1, 0], lr: 0.1) }
        XCTAssertEqual(p[0], 0.785301, accuracy: 2e-6)
        XCTAssertEqual(p[1], 2.167865, accuracy: 2e-6)
        XCTAssertEqual(adam.t, 2)
        XCTAssertEqual(adam.m[0], 0.145, accuracy: 1e-7)
        XCTAssertEqual(adam.v[1], 0.0475, accuracy: 1e-7)
    }

    func testGradientScaleActsBeforeTheMoments() {
        let table = [ParameterInfo(name: "w", shape: [1], offset: 0, decays: false)]
        let adam = AdamW(table: table, count: 1)
        var p: [Float] = [0]
        p.withUnsafeMutableBufferPointer { adam.step(parameters: $0.baseAddress!, gradients: [4], lr: 0.1, gradScale: 0.25) }
        XCTAssertEqual(adam.m[0], 0.1, accuracy: 1e-7, "(1 − β1)·(4·0.25)")
        XCTAssertEqual(adam.v[0], 0.05, accuracy: 1e-7)
    }

    func testClipping() {
        let g: [Float] = [3, 0, 4]
        XCTAssertEqual(AdamW.globalNorm(g, count: 3), 5)
        XCTAssertEqual(AdamW.clipScale(norm: 5, maxNorm: 1), 0.2)
        XCTAssertEqual(AdamW.clipScale(norm: 0.5, maxNorm: 1), 1, "inside the ball: untouched")
        XCTAssertEqual(AdamW.clipScale(norm: 50, maxNorm: 0), 1, "0 turns clipping off")
    }
}
