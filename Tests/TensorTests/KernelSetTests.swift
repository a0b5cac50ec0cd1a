// The AVX2 kernels against the portable ones: the same bits for every output, at sizes with
// and without scalar tails, and whole attention passes (forward and backward) at both.
import Tensor
import XCTest

final class KernelSetTests: XCTestCase {
    override func tearDown() { Kernels.use(Kernels.best) }

    /// Runs `body` under each kernel set and returns its outputs; skips where AVX2 is missing.
    func bothSets(_ body: () -> [[Float]]) throws -> (portable: [[Float]], avx2: [[Float]]) {
        try XCTSkipUnless(Kernels.best == .avx2, "this CPU has no AVX2; only the portable kernels run")
        XCTAssertTrue(Kernels.use(.portable))
        let portable = body()
        XCTAssertTrue(Kernels.use(.avx2))
        let avx2 = body()
        return (portable, avx2)
    }

    func assertSameBits(_ a: [[Float]], _ b: [[Float]], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        for (x, y) in zip(a, b) {
            XCTAssertEqual(x.map(\.bitPattern), y.map(\.bitPattern), what, file: file, line: line)
        }
    }

    func testElementwiseKernelsAgreeBitForBit() throws {
        for n in [8, 13, 80, 203] {
            let x = randomValues(n * 3, seed: UInt64(n), scale: 6)
            let r = try bothSets {
                let y = zeros(x.count), slope = zeros(x.count)
                geluForward(y.data, slope: slope.data, x, count: x.count)
                return [y.values, slope.values]
            }
            assertSameBits(r.portable, r.avx2, "gelu n=\(n)")
        }
    }

    func testLayerNormAgreesBitForBit() throws {
        for cols in [16, 13, 80] {
            let rows = 5
            let x = randomValues(rows * cols, seed: 3, scale: 2), gain = randomValues(cols, seed: 4, scale: 2)
            let bias = randomValues(cols, seed: 5), dy = randomValues(rows * cols, seed: 6)
            for accumulate in [true, false] {
                let r = try bothSets {
                    let y = zeros(rows * cols), mean = zeros(rows), rstd = zeros(rows)
                    layerNormForward(y.data, mean: mean.data, rstd: rstd.data, x, gain: gain, bias: bias, rows: rows, cols: cols)
                    let dx = tensor(randomValues(rows * cols, seed: 7)), dg = tensor(randomValues(cols, seed: 8))
                    let db = tensor(randomValues(cols, seed: 9))
                    layerNormBackward(dx: dx.data, dgain: dg.data, dbias: db.data, dy, x, gain: gain, mean: mean.data,
                                      rstd: rstd.data, rows: rows, cols: cols, accumulate: accumulate)
                    return [y.values, mean.values, rstd.values, dx.values, dg.values, db.values]
                }
                assertSameBits(r.portable, r.avx2, "layerNorm cols=\(cols) accumulate=\(accumulate)")
            }
        }
    }

    func testCrossEntropyAgreesBitForBit() throws {
        for V in [512, 11, 67] {
            let rows = 7
            let logits = randomValues(rows * V, seed: 10, scale: 8)
            var rng = RNG(seed: 11)
            let targets = (0..<rows).map { _ in Int32(rng.nextInt(below: V)) }
            let r = try bothSets {
                let d = zeros(rows * V)
                let withGradient = crossEntropyForward(dlogits: d.data, logits, targets: targets, rows: rows, V: V, meanOver: 9)
                let lossOnly = crossEntropyForward(dlogits: nil, logits, targets: targets, rows: rows, V: V)
                return [d.values, [withGradient, lossOnly]]
            }
            assertSameBits(r.portable, r.avx2, "cross-entropy V=\(V)")
        }
    }

    func testAttentionAgreesBitForBit() throws {
        for (B, T, C, heads) in [(2, 5, 8, 2), (1, 70, 48, 3), (1, 128, 80, 5)] {
            let qkv = randomValues(B * T * 3 * C, seed: 12, scale: 2), dout = randomValues(B * T * C, seed: 13)
            for accumulate in [true, false] {
                let r = try bothSets {
                    let out = zeros(B * T * C), probs = zeros(B * heads * T * T), scratch = zeros(T * T)
                    attentionForward(out.data, probs: probs.data, qkv, B: B, T: T, C: C, heads: heads)
                    let dqkv = tensor(randomValues(qkv.count, seed: 14))
                    attentionBackward(dqkv: dqkv.data, scratch: scratch.data, dout, qkv, probs: probs.data,
                                      B: B, T: T, C: C, heads: heads, accumulate: accumulate)
                    return [out.values, probs.values, dqkv.values]
                }
                assertSameBits(r.portable, r.avx2, "attention T=\(T) C=\(C) accumulate=\(accumulate)")
            }
        }
    }

    func testAdamWAgreesBitForBit() throws {
        let n = 37
        let g = randomValues(n, seed: 15, scale: 3)
        let r = try bothSets {
            let p = tensor(randomValues(n, seed: 16)), m = tensor(randomValues(n, seed: 17, scale: 0.1))
            let v = tensor(randomValues(n, seed: 18).map { $0 * $0 })
            for step in 1...3 {
                adamwUpdate(p.data, m: m.data, v: v.data, g, count: n, gradScale: 0.7, beta1: 0.9, beta2: 0.95,
                            stepSize: 1e-2 * Float(step), inverseRootBC2: 1.3, eps: 1e-8, shrink: 0.999)
            }
            return [p.values, m.values, v.values]
        }
        assertSameBits(r.portable, r.avx2, "AdamW")
    }

    /// The portable AdamW against the update written out in Float64 (a check on the formula
    /// itself, whichever set runs by default).
    func testAdamWFormula() {
        let p = tensor([0.5, -0.25]), m = tensor([0.1, 0]), v = tensor([0.04, 0])
        adamwUpdate(p.data, m: m.data, v: v.data, [0.2, -1], count: 2, gradScale: 0.5, beta1: 0.9, beta2: 0.99,
                    stepSize: 0.01, inverseRootBC2: 2, eps: 1e-8, shrink: 0.9)
        let g = [0.1, -0.5]
        let m1 = [0.9 * 0.1 + 0.1 * g[0], 0.1 * g[1]], v1 = [0.99 * 0.04 + 0.01 * g[0] * g[0], 0.01 * g[1] * g[1]]
        let p1 = [0.5 * 0.9 - 0.01 * m1[0] / (v1[0].squareRoot() * 2 + 1e-8), -0.25 * 0.9 - 0.01 * m1[1] / (v1[1].squareRoot() * 2 + 1e-8)]
        for i in 0..<2 {
            XCTAssertEqual(Double(m[i]), m1[i], accuracy: 1e-7)
            XCTAssertEqual(Double(v[i]), v1[i], accuracy: 1e-7)
            XCTAssertEqual(Double(p[i]), p1[i], accuracy: 1e-6)
        }
    }
}
