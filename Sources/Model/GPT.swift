// gpt-mini built from the tape's ops: the parameter table over one flat buffer, the seeded
// initialisation, and the graph of DESIGN.md recorded once per batch shape.
import Autograd
import Tensor

/// The gpt-mini model: tied token embedding, learned positions, pre-LN blocks
/// [LN → causal MHA (fused qkv, no bias) → residual, LN → MLP 4d GELU-tanh → residual],
/// final LN, logits = h·wteᵀ.
public final class GPT: LanguageModel {
    public let config: GPTConfig
    public let batchSize: Int
    public let parameterCount: Int
    public let parameterTable: [ParameterInfo]
    public let parameters: UnsafeMutablePointer<Float>
    public let gradients: UnsafeMutablePointer<Float>

    /// The training graph, recorded for `batchSize` sequences.
    private let graph: Graph
    /// A one-sequence graph for sampling, recorded on first use.
    private var samplingGraph: Graph?

    /// Builds the model and initialises it from `seed`: normal(0, 0.02) for every matrix,
    /// the residual output projections (proj, out) scaled by 1/√(2L), LayerNorm gains 1 and
    /// biases 0. Throws when the shape is not one the family can build.
    public init(config: GPTConfig, batchSize: Int, seed: UInt64) throws {
        try config.validate()
        guard batchSize >= 1 else { throw ModelError.invalidConfig("batch size \(batchSize) must be at least 1") }
        try config.checkMemory(batch: batchSize)
        self.config = config
        self.batchSize = batchSize
        parameterTable = GPT.table(config)
        parameterCount = parameterTable.last.map { $0.offset + $0.count } ?? 0
        parameters = .allocate(capacity: parameterCount)
        parameters.initialize(repeating: 0, count: parameterCount)
        gradients = .allocate(capacity: parameterCount)
        gradients.initialize(repeating: 0, count: parameterCount)
        GPT.initialise(parameters, table: parameterTable, layers: config.layers, seed: seed)
        graph = Graph(config: config, batch: batchSize, parameters: parameters, gradients: gradients, table: parameterTable)
    }

    deinit {
        parameters.deallocate()
        gradients.deallocate()
    }

    /// The parameter layout: names as in the usual GPT checkpoints, linear weights (out, in).
    public static func table(_ c: GPTConfig) -> [ParameterInfo] {
        var table: [ParameterInfo] = []
        var offset = 0
        func add(_ name: String, _ shape: [Int], decays: Bool) {
            table.append(ParameterInfo(name: name, shape: shape, offset: offset, decays: decays))
            offset += shape.reduce(1, *)
        }
        let d = c.d
        add("wte.weight", [c.vocabSize, d], decays: true)
        add("wpe.weight", [c.context, d], decays: true)
        for i in 0..<c.layers {
            add("blocks.\(i).ln1.weight", [d], decays: false)
            add("blocks.\(i).ln1.bias", [d], decays: false)
            add("blocks.\(i).qkv.weight", [3 * d, d], decays: true)
            add("blocks.\(i).proj.weight", [d, d], decays: true)
            add("blocks.\(i).ln2.weight", [d], decays: false)
            add("blocks.\(i).ln2.bias", [d], decays: false)
            add("blocks.\(i).fc.weight", [c.ffw, d], decays: true)
            add("blocks.\(i).out.weight", [d, c.ffw], decays: true)
        }
        add("lnf.weight", [d], decays: false)
        add("lnf.bias", [d], decays: false)
        return table
    }

    /// Draws every tensor in table order from one seeded stream, so the same seed gives the
    /// same model on every run and platform.
    static func initialise(_ p: UnsafeMutablePointer<Float>, table: [ParameterInfo], layers: Int, seed: UInt64) {
        var rng = RNG(seed: seed)
        let residualScale = 1 / (2 * Float(layers)).squareRoot()
        for t in table {
            let dst = p + t.offset
            if t.shape.count == 1 {
                dst.update(repeating: t.name.hasSuffix(".weight") ? 1 : 0, count: t.count)
            } else {
                let residual = t.name.hasSuffix(".proj.weight") || t.name.hasSuffix(".out.weight")
                rng.fillNormal(dst, count: t.count, std: 0.02 * (residual ? residualScale : 1))
            }
        }
    }

    public func forwardBackward(inputs: UnsafePointer<Int32>, targets: UnsafePointer<Int32>) -> Float {
        graph.load(inputs: inputs, targets: targets, sequences: batchSize)
        gradients.update(repeating: 0, count: parameterCount)
        graph.tape.computesGradients = true
        graph.tape.forward()
        graph.tape.backward()
        return graph.loss.data[0]
    }

    public func loss(inputs: UnsafePointer<Int32>, targets: UnsafePointer<Int32>) -> Float {
        graph.load(inputs: inputs, targets: targets, sequences: batchSize)
        graph.tape.computesGradients = false
        graph.tape.forward()
        return graph.loss.data[0]
    }

    public func nextTokenLogits(_ tokens: [Int32]) -> [Float] {
        precondition(!tokens.isEmpty && tokens.count <= config.context,
                     "nextTokenLogits needs 1...\(config.context) tokens, got \(tokens.count)")
        let p = samplingGraph ?? Graph(config: config, batch: 1, parameters: parameters, gradients: gradients, table: parameterTable)
        samplingGraph = p
        // Causal attention: positions after the prompt do not affect the prompt's logits.
        p.inputs.update(repeating: 0, count: config.context)
        tokens.withUnsafeBufferPointer { p.inputs.update(from: $0.baseAddress!, count: tokens.count) }
        p.tape.computesGradients = false
        p.tape.forward()
        let V = config.vocabSize
        return Array(UnsafeBufferPointer(start: p.logits.data + (tokens.count - 1) * V, count: V))
    }
}

/// The recorded graph for one batch shape, with its token buffers.
final class Graph {
    let tape = Tape()
    let inputs: UnsafeMutablePointer<Int32>
    let targets: UnsafeMutablePointer<Int32>
    let logits: Value
    let loss: Value

    init(config c: GPTConfig, batch B: Int, parameters: UnsafeMutablePointer<Float>,
         gradients: UnsafeMutablePointer<Float>, table: [ParameterInfo]) {
        let T = c.context
        inputs = tape.tokenBuffer(B * T)
        targets = tape.tokenBuffer(B * T)
        var byName: [String: Value] = [:]
        for t in table {
            byName[t.name] = tape.parameter(shape: t.shape, data: parameters + t.offset, grad: gradients + t.offset)
        }
        func p(_ name: String) -> Value { byName[name]! }

        let wte = p("wte.weight")
        var x = tape.embedding(tokens: inputs, wte: wte, wpe: p("wpe.weight"), batch: B, context: T)
        for i in 0..<c.layers {
            let pre = "blocks.\(i)."
            let a = tape.layerNorm(x, gain: p(pre + "ln1.weight"), bias: p(pre + "ln1.bias"))
            let qkv = tape.linear(a, weight: p(pre + "qkv.weight"))
            let att = tape.attention(qkv, batch: B, context: T, heads: c.heads)
            x = tape.add(x, tape.linear(att, weight: p(pre + "proj.weight")))
            let m = tape.layerNorm(x, gain: p(pre + "ln2.weight"), bias: p(pre + "ln2.bias"))
            let h = tape.gelu(tape.linear(m, weight: p(pre + "fc.weight")))
            x = tape.add(x, tape.linear(h, weight: p(pre + "out.weight")))
        }
        let final = tape.layerNorm(x, gain: p("lnf.weight"), bias: p("lnf.bias"))
        (loss, logits) = tape.logitsCrossEntropy(final, weight: wte, targets: targets)
    }

    func load(inputs src: UnsafePointer<Int32>, targets tgt: UnsafePointer<Int32>, sequences: Int) {
        let n = sequences * (logits.rows / sequences)
        inputs.update(from: src, count: n)
        targets.update(from: tgt, count: n)
    }
}
