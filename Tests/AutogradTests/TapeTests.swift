// The tape end to end on a small graph with a tied weight: gradients against central finite
// differences, replay without re-recording, and evaluation mode leaving gradients alone.
import Autograd
import Tensor
import XCTest

final class TapeTests: XCTestCase {
    /// embedding (wte, wpe) → layerNorm → linear → gelu → linear → residual add → attention
    /// over a fused qkv → layerNorm → logits with the tied wte → cross-entropy: as two ops, or
    /// as the fused output head in chunks of `headChunk` rows.
    struct Graph {
        let tape = Tape()
        let params: Tensor, grads: Tensor
        let inputs: UnsafeMutablePointer<Int32>, targets: UnsafeMutablePointer<Int32>
        let loss: Value
        let logits: Value

        init(B: Int, T: Int, C: Int, V: Int, headChunk: Int? = nil) {
            let shapes = [[V, C], [T, C], [C], [C], [4 * C, C], [C, 4 * C], [3 * C, C], [C], [C]]
            params = Tensor(shape: [shapes.map { $0.reduce(1, *) }.reduce(0, +)])
            grads = Tensor(shape: params.shape)
            var rng = RNG(seed: 3)
            rng.fillNormal(params.data, count: params.count, std: 0.5)
            var values: [Value] = []
            var offset = 0
            for s in shapes {
                values.append(tape.parameter(shape: s, data: params.data + offset, grad: grads.data + offset))
                offset += s.reduce(1, *)
            }
            for i in [2, 7] { for j in 0..<C { values[i].data[j] += 1 } }   // LN gains near 1
            inputs = tape.tokenBuffer(B * T)
            targets = tape.tokenBuffer(B * T)
            for i in 0..<(B * T) {
                inputs[i] = Int32(rng.nextInt(below: V))
                targets[i] = Int32(rng.nextInt(below: V))
            }
            let x = tape.embedding(tokens: inputs, wte: values[0], wpe: values[1], batch: B, context: T)
            let n = tape.layerNorm(x, gain: values[2], bias: values[3])
            let h = tape.linear(tape.gelu(tape.linear(n, weight: values[4])), weight: values[5])
            let r = tape.add(x, h)
            let a = tape.attention(tape.linear(r, weight: values[6]), batch: B, context: T, heads: 2)
            let f = tape.layerNorm(a, gain: values[7], bias: values[8])
            if let headChunk {
                (loss, logits) = tape.logitsCrossEntropy(f, weight: values[0], targets: targets, chunkRows: headChunk)
            } else {
                logits = tape.linear(f, weight: values[0], gradientInPlace: true)
                loss = tape.crossEntropy(logits, targets: targets)
            }
        }

        func forwardBackward() -> Float {
            grads.zero()
            tape.computesGradients = true
            tape.forward()
            tape.backward()
            return loss.data[0]
        }

        func evaluate() -> Double {
            tape.computesGradients = false
            tape.forward()
            return Double(loss.data[0])
        }
    }

    /// Both heads: the fused one sends its gradients during the forward, in chunks of three
    /// rows that the tied wte's embedding gradient then adds to.
    func testGradientsMatchFiniteDifferences() {
        for headChunk in [nil, 3] {
            checkFiniteDifferences(Graph(B: 2, T: 6, C: 16, V: 11, headChunk: headChunk))
        }
    }

    func checkFiniteDifferences(_ g: Graph, file: StaticString = #filePath, line: UInt = #line) {
        _ = g.forwardBackward()
        let analytic = g.grads.values
        // Bound: ‖fd − analytic‖ / ‖analytic‖ < 2e-2 over every parameter, tied wte included
        // (Float32 graph, eps = 1e-3: the weights are spread wide, so the curvature is large and
        // eps = 1e-2 leaves ~20% truncation error; at 1e-3 the measured error is below 0.6%).
        var diff = 0.0, norm = 0.0
        for i in 0..<g.params.count {
            let saved = g.params[i]
            g.params[i] = saved + 1e-3
            let up = g.evaluate()
            g.params[i] = saved - 1e-3
            let down = g.evaluate()
            g.params[i] = saved
            let fd = (up - down) / 2e-3
            diff += (fd - Double(analytic[i])) * (fd - Double(analytic[i]))
            norm += Double(analytic[i]) * Double(analytic[i])
        }
        XCTAssertGreaterThan(norm, 1e-6, file: file, line: line)
        XCTAssertLessThan((diff / norm).squareRoot(), 2e-2, file: file, line: line)
    }

    /// A training forward of the fused head works in one chunk's buffer; an evaluation forward
    /// after it must still write every row's logits (sampling reads them), equal to x·Wᵀ by the
    /// separate ops, and the same loss as the training forward.
    func testFusedHeadEvaluationWritesEveryRowsLogits() {
        let fused = Graph(B: 2, T: 6, C: 16, V: 11, headChunk: 3), plain = Graph(B: 2, T: 6, C: 16, V: 11)
        let trained = fused.forwardBackward()
        XCTAssertEqual(fused.evaluate(), Double(trained), accuracy: 1e-6)
        _ = plain.evaluate()
        XCTAssertEqual(fused.logits.count, 12 * 11)
        for i in 0..<fused.logits.count { XCTAssertEqual(fused.logits.data[i], plain.logits.data[i], accuracy: 1e-5) }
    }

    func testReplayIsDeterministicAndEvaluationLeavesGradients() {
        let g = Graph(B: 1, T: 4, C: 8, V: 7)
        let ops = g.tape.count
        let first = g.forwardBackward()
        let grads = g.grads.values
        XCTAssertEqual(g.forwardBackward(), first)          // zeroed and recomputed, not accumulated
        XCTAssertEqual(g.grads.values, grads)
        XCTAssertEqual(g.tape.count, ops)                   // replaying records nothing new
        XCTAssertEqual(Float(g.evaluate()), first, accuracy: 1e-6)
        XCTAssertEqual(g.grads.values, grads)
    }

    /// The chunked output head must equal linear + cross-entropy: 300 rows at V = 2100 run
    /// as five chunks (64 rows each at most, the fewest a chunk takes).
    func testFusedOutputHeadMatchesSeparateOps() {
        let rows = 300, C = 8, V = 2100
        let x = Tensor(shape: [rows, C]), w = Tensor(shape: [V, C])
        var rng = RNG(seed: 11)
        rng.fillNormal(x.data, count: x.count, std: 1)
        rng.fillNormal(w.data, count: w.count, std: 0.5)
        var results: [(Float, [Float], [Float])] = []
        for fused in [false, true] {
            let tape = Tape()
            let dx = Tensor(shape: [rows, C]), dw = Tensor(shape: [V, C])
            let targets = tape.tokenBuffer(rows)
            var r = RNG(seed: 12)
            for i in 0..<rows { targets[i] = Int32(r.nextInt(below: V)) }
            // x goes through one op first so that its gradient comes from the tape.
            let xv = tape.parameter(shape: [rows, C], data: x.data, grad: dx.data)
            let wv = tape.parameter(shape: [V, C], data: w.data, grad: dw.data)
            let loss = fused ? tape.logitsCrossEntropy(xv, weight: wv, targets: targets).loss
                             : tape.crossEntropy(tape.linear(xv, weight: wv, gradientInPlace: true), targets: targets)
            tape.forward()
            tape.backward()
            results.append((loss.data[0], dx.values, dw.values))
        }
        XCTAssertEqual(results[0].0, results[1].0, accuracy: 1e-5)
        for i in 0..<results[0].1.count { XCTAssertEqual(results[0].1[i], results[1].1[i], accuracy: 1e-6) }
        for i in 0..<results[0].2.count { XCTAssertEqual(results[0].2[i], results[1].2[i], accuracy: 1e-6) }
    }
}
