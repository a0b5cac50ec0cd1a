// Forward values against direct formulas and backward against finite differences, for every
// kernel of the engine.
import Foundation
import Tensor
import XCTest

/// A tensor holding `values` (kernels and probes share its memory without Swift access conflicts).
func tensor(_ values: [Float]) -> Tensor { Tensor(shape: [values.count], values: values) }
func zeros(_ n: Int) -> Tensor { Tensor(shape: [n]) }

final class KernelTests: XCTestCase {
    func testExpAndTanhAgainstLibm() {
        var worstExp = 0.0, worstTanh = 0.0
        var x: Float = -80
        while x < 80 {
            worstExp = max(worstExp, Double(abs(expf32(x) - Foundation.exp(x)) / Foundation.exp(x)))
            if abs(x) < 20 { worstTanh = max(worstTanh, Double(abs(tanhf32(x) - Foundation.tanh(x)))) }
            x += 0.0137
        }
        XCTAssertLessThan(worstExp, 1e-6)
        XCTAssertLessThan(worstTanh, 1e-6)
        XCTAssert(expf32(-1000) >= 0 && expf32(-1000) < 1e-37)
        XCTAssertTrue(expf32(1000).isFinite)
        XCTAssertEqual(tanhf32(50), 1)
        XCTAssertEqual(tanhf32(-50), -1)
    }

    func testGemmTransposesAgainstNaive() {
        let m = 5, n = 7, k = 3
        let a = randomValues(m * k, seed: 1), b = randomValues(k * n, seed: 2)
        // aT is A stored transposed (k, m); bT is B stored transposed (n, k).
        var aT = [Float](repeating: 0, count: m * k), bT = [Float](repeating: 0, count: n * k)
        for i in 0..<m { for p in 0..<k { aT[p * m + i] = a[i * k + p] } }
        for p in 0..<k { for j in 0..<n { bT[j * k + p] = b[p * n + j] } }
        var expected = [Float](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n { for p in 0..<k { expected[i * n + j] += a[i * k + p] * b[p * n + j] } } }
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let c = tensor([Float](repeating: 1, count: m * n))
            gemm(c.data, ldc: n, ta ? aT : a, lda: ta ? m : k, transposeA: ta, tb ? bT : b, ldb: tb ? k : n, transposeB: tb,
                 m: m, n: n, k: k, alpha: 2, beta: 0.5)
            for i in 0..<m * n { XCTAssertEqual(c[i], 2 * expected[i] + 0.5, accuracy: 1e-5, "transposes \(ta), \(tb)") }
        }
    }

    func testLinearBackward() {
        let rows = 6, inF = 5, outF = 4
        let x = tensor(randomValues(rows * inF, seed: 3)), w = tensor(randomValues(outF * inF, seed: 4))
        let probeW = randomValues(rows * outF, seed: 5)
        let y = zeros(rows * outF), dx = zeros(x.count), dw = zeros(w.count)
        linearBackward(dx: dx.data, dw: dw.data, probeW, x.data, w.data, rows: rows, inFeatures: inF, outFeatures: outF)
        func probe() -> Double {
            linearForward(y.data, x.data, w.data, rows: rows, inFeatures: inF, outFeatures: outF)
            return dot(probeW, y.data)
        }
        assertGradient("linear dx", x: x.data, count: x.count, analytic: dx.data, probe: probe)
        assertGradient("linear dW", x: w.data, count: w.count, analytic: dw.data, probe: probe)
    }

    func testLayerNormForwardAndBackward() {
        let rows = 3, cols = 13   // 13: one SIMD block and a scalar tail
        let xs = randomValues(rows * cols, seed: 6, scale: 2)
        let x = tensor(xs)
        let gain = tensor(randomValues(cols, seed: 7).map { $0 + 1 }), bias = tensor(randomValues(cols, seed: 8))
        let y = zeros(x.count), mean = zeros(rows), rstd = zeros(rows)
        layerNormForward(y.data, mean: mean.data, rstd: rstd.data, x.data, gain: gain.data, bias: bias.data, rows: rows, cols: cols)
        for r in 0..<rows {
            let row = xs[(r * cols)..<((r + 1) * cols)].map(Double.init)
            let mu = row.reduce(0, +) / Double(cols)
            let v = row.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(cols)
            for c in 0..<cols {
                let e = (row[c] - mu) / (v + 1e-5).squareRoot() * Double(gain[c]) + Double(bias[c])
                XCTAssertEqual(Double(y[r * cols + c]), e, accuracy: 1e-5)
            }
        }
        let w = randomValues(x.count, seed: 9)
        let dx = zeros(x.count), dg = zeros(cols), db = zeros(cols)
        layerNormBackward(dx: dx.data, dgain: dg.data, dbias: db.data, w, x.data, gain: gain.data,
                          mean: mean.data, rstd: rstd.data, rows: rows, cols: cols)
        let m2 = zeros(rows), s2 = zeros(rows)
        func probe() -> Double {
            layerNormForward(y.data, mean: m2.data, rstd: s2.data, x.data, gain: gain.data, bias: bias.data, rows: rows, cols: cols)
            return dot(w, y.data)
        }
        assertGradient("layerNorm dx", x: x.data, count: x.count, analytic: dx.data, probe: probe)
        assertGradient("layerNorm dgain", x: gain.data, count: cols, analytic: dg.data, probe: probe)
        assertGradient("layerNorm dbias", x: bias.data, count: cols, analytic: db.data, probe: probe)
    }

    func testGeluForwardAndBackward() {
        let x = tensor(randomValues(21, seed: 10, scale: 4))
        let y = zeros(x.count), slope = zeros(x.count)
        geluForward(y.data, slope: slope.data, x.data, count: x.count)
        for i in 0..<x.count {
            let v = Double(x[i])
            XCTAssertEqual(Double(y[i]), 0.5 * v * (1 + Foundation.tanh(0.7978845608 * (v + 0.044715 * v * v * v))), accuracy: 1e-6)
        }
        let w = randomValues(x.count, seed: 11)
        let dx = tensor([Float](repeating: 0.5, count: x.count))   // starts non-zero: the backward must add
        geluBackward(dx: dx.data, w, slope: slope.data, count: x.count)
        for i in 0..<dx.count { dx[i] -= 0.5 }
        let overwritten = tensor([Float](repeating: 9, count: x.count))
        geluBackward(dx: overwritten.data, w, slope: slope.data, count: x.count, accumulate: false)
        for i in 0..<dx.count { XCTAssertEqual(overwritten[i], dx[i], accuracy: 1e-6) }
        let scratch = zeros(x.count)
        assertGradient("gelu", x: x.data, count: x.count, analytic: dx.data, eps: 1e-3) {
            geluForward(y.data, slope: scratch.data, x.data, count: x.count)
            return dot(w, y.data)
        }
    }

    func testResidualAccumulates() {
        let a = randomValues(11, seed: 12), b = randomValues(11, seed: 13), g = randomValues(11, seed: 14)
        let out = zeros(11)
        residualForward(out.data, a, b, count: 11)
        for i in 0..<11 { XCTAssertEqual(out[i], a[i] + b[i]) }
        let da = tensor([Float](repeating: 1, count: 11)), db = zeros(11)
        residualBackward(da.data, db.data, g, count: 11)
        residualBackward(da.data, db.data, g, count: 11)
        for i in 0..<11 { XCTAssertEqual(da[i], 1 + 2 * g[i], accuracy: 1e-6); XCTAssertEqual(db[i], 2 * g[i], accuracy: 1e-6) }
    }

    func testEmbeddingGatherAndScatterAdd() {
        let B = 2, T = 3, C = 4, V = 5
        let tokens: [Int32] = [1, 4, 1, 0, 1, 2]   // token 1 three times: its gradient sums
        let wte = randomValues(V * C, seed: 15), wpe = randomValues(T * C, seed: 16)
        let out = zeros(B * T * C)
        embeddingForward(out.data, tokens: tokens, wte: wte, wpe: wpe, B: B, T: T, C: C)
        XCTAssertEqual(out[(1 * T + 2) * C + 3], wte[2 * C + 3] + wpe[2 * C + 3])
        let g = randomValues(out.count, seed: 17)
        let dwte = zeros(wte.count), dwpe = zeros(wpe.count)
        embeddingBackward(dwte: dwte.data, dwpe: dwpe.data, g, tokens: tokens, B: B, T: T, C: C)
        for c in 0..<C {
            XCTAssertEqual(dwte[1 * C + c], g[0 * C + c] + g[2 * C + c] + g[4 * C + c], accuracy: 1e-6)
            XCTAssertEqual(dwte[3 * C + c], 0)
            XCTAssertEqual(dwpe[1 * C + c], g[1 * C + c] + g[4 * C + c], accuracy: 1e-6)
        }
    }

    func testCrossEntropyValueAndGradient() {
        let rows = 3, V = 11
        let values = randomValues(rows * V, seed: 18, scale: 3)
        let logits = tensor(values)
        let targets: [Int32] = [0, 10, 4]
        var expected = 0.0
        for r in 0..<rows {
            let row = values[(r * V)..<((r + 1) * V)].map(Double.init)
            expected += Foundation.log(row.map(Foundation.exp).reduce(0, +)) - row[Int(targets[r])]
        }
        expected /= Double(rows)
        XCTAssertEqual(Double(crossEntropyForward(dlogits: nil, logits.data, targets: targets, rows: rows, V: V)), expected, accuracy: 1e-5)
        let d = zeros(logits.count)
        let loss = crossEntropyForward(dlogits: d.data, logits.data, targets: targets, rows: rows, V: V)
        XCTAssertEqual(Double(loss), expected, accuracy: 1e-5)
        assertGradient("cross-entropy", x: logits.data, count: logits.count, analytic: d.data, eps: 1e-3) {
            Double(crossEntropyForward(dlogits: nil, logits.data, targets: targets, rows: rows, V: V))
        }
        // In place: the gradient may overwrite the logits.
        let inPlace = tensor(values)
        _ = crossEntropyForward(dlogits: inPlace.data, inPlace.data, targets: targets, rows: rows, V: V)
        for i in 0..<d.count { XCTAssertEqual(inPlace[i], d[i], accuracy: 1e-7) }
    }

    /// Attention against the formula written out with loops, and its backward against finite
    /// differences, at a short context and at one long enough to use the row-blocked scores.
    func testAttention() {
        for (B, T, C, heads) in [(2, 5, 8, 2), (1, 70, 32, 2)] {
            let hs = C / heads
            let qkv = tensor(randomValues(B * T * 3 * C, seed: 19, scale: 1.5))
            let out = zeros(B * T * C), probs = zeros(B * heads * T * T)
            attentionForward(out.data, probs: probs.data, qkv.data, B: B, T: T, C: C, heads: heads)
            for b in 0..<B { for h in 0..<heads { for t in Swift.stride(from: 0, to: T, by: 7) {
                let q = { (i: Int) in Double(qkv[(b * T + t) * 3 * C + h * hs + i]) }
                let k = { (s: Int, i: Int) in Double(qkv[(b * T + s) * 3 * C + C + h * hs + i]) }
                let v = { (s: Int, i: Int) in Double(qkv[(b * T + s) * 3 * C + 2 * C + h * hs + i]) }
                let scores = (0...t).map { s in (0..<hs).map { q($0) * k(s, $0) }.reduce(0, +) / Double(hs).squareRoot() }
                let mx = scores.max()!
                let e = scores.map { Foundation.exp($0 - mx) }, z = e.reduce(0, +)
                for i in 0..<hs {
                    let expected = (0...t).map { e[$0] / z * v($0, i) }.reduce(0, +)
                    XCTAssertEqual(Double(out[(b * T + t) * C + h * hs + i]), expected, accuracy: 1e-5)
                }
                if t + 1 < T { XCTAssertEqual(probs[((b * heads + h) * T + t) * T + t + 1], 0) }
            } } }
            let w = randomValues(out.count, seed: 20)
            let dqkv = zeros(qkv.count), scratch = zeros(T * T), p2 = zeros(probs.count)
            attentionBackward(dqkv: dqkv.data, scratch: scratch.data, w, qkv.data, probs: probs.data, B: B, T: T, C: C, heads: heads)
            assertGradient("attention T=\(T)", x: qkv.data, count: qkv.count, analytic: dqkv.data, eps: 1e-2,
                           stride: T > 10 ? 5 : 1) {
                attentionForward(out.data, probs: p2.data, qkv.data, B: B, T: T, C: C, heads: heads)
                return dot(w, out.data)
            }
        }
    }

    func testRNGDeterminismAndState() throws {
        var a = RNG(seed: 42), b = RNG(seed: 42)
        for _ in 0..<100 { XCTAssertEqual(a.next(), b.next()) }
        var c = RNG(seed: 0)
        c.state = a.state
        XCTAssertEqual(c.next(), a.next())
        XCTAssertNotEqual(RNG(seed: 1).state, RNG(seed: 2).state)
        var r = RNG(seed: 7)
        var sum = 0.0, sumSq = 0.0
        let n = 20_000
        for _ in 0..<n { let x = Double(r.nextNormal()); sum += x; sumSq += x * x }
        XCTAssertEqual(sum / Double(n), 0, accuracy: 0.03)     // 4 standard errors
        XCTAssertEqual(sumSq / Double(n), 1, accuracy: 0.04)
        for _ in 0..<1000 { XCTAssert((0..<7).contains(r.nextInt(below: 7))) }
        var back = try JSONDecoder().decode(RNG.self, from: try JSONEncoder().encode(r))
        XCTAssertEqual(back.next(), r.next())
    }
}
