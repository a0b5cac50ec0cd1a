// A tape of coarse operations over buffers planned once per shape. Building the graph
// allocates every activation, gradient and saved buffer; running it (forward, backward)
// only replays the recorded closures, so a training step does not allocate.
import Tensor

/// A tensor on the tape: its values and the gradient of the loss with respect to them.
/// Parameters point into the model's flat parameter and gradient buffers; activations own
/// buffers the tape allocated when the op was recorded.
public final class Value {
    public let shape: [Int]
    public let count: Int
    public let data: UnsafeMutablePointer<Float>
    public let grad: UnsafeMutablePointer<Float>
    /// Parameters' gradients are cleared by their owner and always accumulated into.
    let isParameter: Bool
    /// Index of the last recorded op that reads this value. Backward runs in reverse, so
    /// that op is the first to send a gradient here: it writes, and the others add.
    var lastReader = -1

    init(shape: [Int], data: UnsafeMutablePointer<Float>, grad: UnsafeMutablePointer<Float>, isParameter: Bool = false) {
        self.isParameter = isParameter
        self.shape = shape
        count = shape.reduce(1, *)
        self.data = data
        self.grad = grad
    }

    /// Rows when viewed as a matrix over its last axis.
    public var rows: Int { count / cols }
    /// Extent of the last axis.
    public var cols: Int { shape.last ?? 1 }

    /// Whether op number `op` must add to this value's gradient (false: it is the first
    /// writer in the backward pass and overwrites whatever the last step left).
    @inline(__always)
    func accumulates(in op: Int) -> Bool { isParameter || lastReader != op }
}

/// One recorded operation: what it computes, and how it sends gradients back. Both closures
/// capture only buffers planned when the op was recorded.
struct Op {
    let forward: () -> Void
    let backward: () -> Void
}

/// Records ops once, then replays them each step: `forward()` runs them in order,
/// `backward()` zeroes the activation gradients and runs the backwards in reverse.
public final class Tape {
    private var ops: [Op] = []
    private var owned: [UnsafeMutablePointer<Float>] = []
    private var ownedInts: [UnsafeMutablePointer<Int32>] = []
    /// Activations, so that gradients nobody writes can be cleared before each backward.
    private var activations: [Value] = []
    /// Gradients no op writes (the loss's own), cleared before each backward (pointer, count).
    private var unwrittenGrads: [(UnsafeMutablePointer<Float>, Int)] = []
    /// Whether the loss op also writes the logits gradient (off for evaluation).
    public var computesGradients = true
    /// Number of ops recorded.
    public var count: Int { ops.count }

    public init() {}

    deinit {
        for p in owned { p.deallocate() }
        for p in ownedInts { p.deallocate() }
    }

    // MARK: Buffers

    /// A zeroed float buffer that lives as long as the tape (saved statistics, scratch).
    public func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        p.initialize(repeating: 0, count: max(count, 1))
        owned.append(p)
        return p
    }

    /// A zeroed token buffer that lives as long as the tape (inputs and targets of a batch).
    public func tokenBuffer(_ count: Int) -> UnsafeMutablePointer<Int32> {
        let p = UnsafeMutablePointer<Int32>.allocate(capacity: max(count, 1))
        p.initialize(repeating: 0, count: max(count, 1))
        ownedInts.append(p)
        return p
    }

    /// A parameter living in caller-owned flat buffers (not cleared by the tape).
    public func parameter(shape: [Int], data: UnsafeMutablePointer<Float>, grad: UnsafeMutablePointer<Float>) -> Value {
        Value(shape: shape, data: data, grad: grad, isParameter: true)
    }

    /// A fresh activation with its own gradient buffer, or with the gradient written over
    /// the values when only a fused op reads the gradient (the logits).
    func activation(_ shape: [Int], gradientInPlace: Bool = false) -> Value {
        let n = shape.reduce(1, *)
        let data = buffer(n)
        if gradientInPlace { return Value(shape: shape, data: data, grad: data) }
        let v = Value(shape: shape, data: data, grad: buffer(n))
        activations.append(v)
        return v
    }

    /// The index the next recorded op will have; an op's backward uses it to ask its inputs
    /// whether to write or add.
    var nextIndex: Int { ops.count }

    /// Appends an op that reads `inputs`.
    func record(reads inputs: [Value], forward: @escaping () -> Void, backward: @escaping () -> Void) {
        for v in inputs { v.lastReader = ops.count }
        ops.append(Op(forward: forward, backward: backward))
        unwrittenGrads = activations.filter { $0.lastReader < 0 && $0.grad != $0.data }.map { ($0.grad, $0.count) }
    }

    // MARK: Running

    /// Runs every op's forward in recording order.
    public func forward() {
        ops.withUnsafeBufferPointer { ops in
            for op in ops { op.forward() }
        }
    }

    /// Runs every op's backward in reverse order. Activation gradients need no clearing:
    /// the first op to reach each one writes it. The caller clears parameter gradients (one
    /// memset over the flat buffer) before `forward()`: the fused output head sends its
    /// gradients during the forward.
    public func backward() {
        for (p, n) in unwrittenGrads { p.update(repeating: 0, count: n) }
        ops.withUnsafeBufferPointer { ops in
            for i in stride(from: ops.count - 1, through: 0, by: -1) { ops[i].backward() }
        }
    }
}
