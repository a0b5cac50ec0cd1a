// The coarse ops of gpt-mini. Each records its forward, what it saves, and its backward side
// by side; the kernels themselves live in Tensor.
import Tensor

extension Tape {
    /// x[b,t] = wte[tokens[b,t]] + wpe[t]. The token embedding may be reused later (tied
    /// output projection): its gradient accumulates.
    public func embedding(tokens: UnsafeMutablePointer<Int32>, wte: Value, wpe: Value, batch B: Int, context T: Int) -> Value {
        let C = wte.cols
        let out = activation([B, T, C])
        record(reads: [wte, wpe],
               forward: { embeddingForward(out.data, tokens: tokens, wte: wte.data, wpe: wpe.data, B: B, T: T, C: C) },
               backward: { embeddingBackward(dwte: wte.grad, dwpe: wpe.grad, out.grad, tokens: tokens, B: B, T: T, C: C) })
        return out
    }

    /// LayerNorm over the last axis with gain and bias; saves mean and rstd per row.
    public func layerNorm(_ x: Value, gain: Value, bias: Value) -> Value {
        let rows = x.rows, cols = x.cols
        let out = activation(x.shape)
        let mean = buffer(rows), rstd = buffer(rows)
        let me = nextIndex
        record(reads: [x, gain, bias],
               forward: { layerNormForward(out.data, mean: mean, rstd: rstd, x.data, gain: gain.data, bias: bias.data, rows: rows, cols: cols) },
               backward: { layerNormBackward(dx: x.grad, dgain: gain.grad, dbias: bias.grad, out.grad, x.data, gain: gain.data,
                                             mean: mean, rstd: rstd, rows: rows, cols: cols, accumulate: x.accumulates(in: me)) })
        return out
    }

    /// y = x·Wᵀ for W stored (out, in). `gradientInPlace` lets a fused consumer (the loss)
    /// write y's gradient over y itself.
    public func linear(_ x: Value, weight w: Value, gradientInPlace: Bool = false) -> Value {
        let rows = x.rows, inF = x.cols, outF = w.shape[0]
        precondition(w.cols == inF, "linear: weight \(w.shape) does not take \(inF) inputs")
        let out = activation(Array(x.shape.dropLast()) + [outF], gradientInPlace: gradientInPlace)
        let me = nextIndex
        record(reads: [x, w],
               forward: { linearForward(out.data, x.data, w.data, rows: rows, inFeatures: inF, outFeatures: outF) },
               backward: { linearBackward(dx: x.grad, dw: w.grad, out.grad, x.data, w.data, rows: rows, inFeatures: inF, outFeatures: outF,
                                          accumulateX: x.accumulates(in: me)) })
        return out
    }

    /// Causal multi-head attention over a fused (B, T, 3C) qkv; saves the probabilities.
    public func attention(_ qkv: Value, batch B: Int, context T: Int, heads: Int) -> Value {
        let C = qkv.cols / 3
        let out = activation([B, T, C])
        let probs = buffer(B * heads * T * T), scratch = buffer(T * T)
        let me = nextIndex
        record(reads: [qkv],
               forward: { attentionForward(out.data, probs: probs, qkv.data, B: B, T: T, C: C, heads: heads) },
               backward: { attentionBackward(dqkv: qkv.grad, scratch: scratch, out.grad, qkv.data, probs: probs, B: B, T: T, C: C, heads: heads,
                                             accumulate: qkv.accumulates(in: me)) })
        return out
    }

    /// GELU (tanh form), elementwise; saves the slope gelu′(x).
    public func gelu(_ x: Value) -> Value {
        let n = x.count
        let out = activation(x.shape)
        let slope = buffer(n)
        let me = nextIndex
        record(reads: [x],
               forward: { geluForward(out.data, slope: slope, x.data, count: n) },
               backward: { geluBackward(dx: x.grad, out.grad, slope: slope, count: n, accumulate: x.accumulates(in: me)) })
        return out
    }

    /// a + b, elementwise (the residual stream).
    public func add(_ a: Value, _ b: Value) -> Value {
        precondition(a.count == b.count, "add: shapes \(a.shape) and \(b.shape) differ")
        let n = a.count
        let out = activation(a.shape)
        let me = nextIndex
        record(reads: [a, b],
               forward: { residualForward(out.data, a.data, b.data, count: n) },
               backward: { residualBackward(a.grad, b.grad, out.grad, count: n,
                                            accumulateA: a.accumulates(in: me), accumulateB: b.accumulates(in: me) || a === b) })
        return out
    }

    /// Mean cross-entropy of logits (rows, V) against targets, a one-element Value. Fused:
    /// when the tape computes gradients, the forward already writes dloss/dlogits (for
    /// dloss = 1) into logits.grad, so the backward has nothing left to do.
    public func crossEntropy(_ logits: Value, targets: UnsafeMutablePointer<Int32>) -> Value {
        let rows = logits.rows, V = logits.cols
        let loss = activation([1])
        record(reads: [logits],
               forward: { [unowned self] in
                   loss.data[0] = crossEntropyForward(dlogits: self.computesGradients ? logits.grad : nil, logits.data,
                                                      targets: targets, rows: rows, V: V)
               },
               backward: {})
        return loss
    }
}

extension Tape {
    /// Rows per chunk of the output head at vocabulary V: 128 KiB of logits, so that a chunk,
    /// its inputs and the weight stay in a 512 KiB L2 while the loss and both gradients are
    /// computed from it, but never fewer than 64 rows, below which each chunk's products spend
    /// more on packing W than they save (at V = 2048, 16-row chunks lost 7% at d = 128).
    public static func headChunkRows(vocabulary V: Int) -> Int { max(64, 32 * 1024 / V) }

    /// The output head fused with the loss and its backward: logits = x·Wᵀ (W is the tied
    /// token embedding), their mean cross-entropy and, when the tape computes gradients,
    /// dx = dlogits·W and dW += dlogitsᵀ·x, all computed one chunk of rows at a time while
    /// the chunk is in cache. The loss is the tape's end (dloss = 1), so its gradients are
    /// sent during the forward: the caller clears parameter gradients before `forward()`,
    /// and no later op may read x. A training forward works in one chunk-sized buffer; the
    /// returned logits hold every row's logits after an evaluation-only forward.
    /// dW is summed chunk by chunk. `chunkRows` overrides `headChunkRows` (tests use small ones).
    public func logitsCrossEntropy(_ x: Value, weight w: Value, targets: UnsafeMutablePointer<Int32>,
                                   chunkRows: Int? = nil) -> (loss: Value, logits: Value) {
        let rows = x.rows, inF = x.cols, V = w.shape[0]
        precondition(w.cols == inF, "logits: weight \(w.shape) does not take \(inF) inputs")
        let logits = activation(Array(x.shape.dropLast()) + [V], gradientInPlace: true)
        let loss = activation([1])
        let chunk = max(1, min(rows, chunkRows ?? Tape.headChunkRows(vocabulary: V)))
        let scratch = buffer(chunk * V)
        let me = nextIndex
        record(reads: [x, w],
               forward: { [unowned self] in
                   let grads = self.computesGradients
                   precondition(!grads || x.isParameter || x.lastReader == me,
                                "logitsCrossEntropy must be the last op to read its input")
                   let accumulateX = x.accumulates(in: me)
                   var total = 0.0, r0 = 0
                   while r0 < rows {
                       let n = min(chunk, rows - r0)
                       let l = grads ? scratch : logits.data + r0 * V
                       linearForward(l, x.data + r0 * inF, w.data, rows: n, inFeatures: inF, outFeatures: V)
                       total += Double(crossEntropyForward(dlogits: grads ? l : nil, l, targets: targets + r0,
                                                           rows: n, V: V, meanOver: rows))
                       if grads {
                           linearBackward(dx: x.grad + r0 * inF, dw: w.grad, l, x.data + r0 * inF, w.data, rows: n,
                                          inFeatures: inF, outFeatures: V, accumulateX: accumulateX)
                       }
                       r0 += n
                   }
                   loss.data[0] = Float(total)
               },
               backward: {})
        return (loss, logits)
    }
}
