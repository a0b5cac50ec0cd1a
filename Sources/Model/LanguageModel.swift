/// One named parameter tensor inside a model's single flat parameter buffer.
public struct ParameterInfo: Hashable, Sendable {
    /// Name in the usual GPT layout (`wte.weight`, `blocks.0.qkv.weight`, …), used as the
    /// safetensors key.
    public var name: String
    public var shape: [Int]
    /// Offset in floats from the start of the flat buffer.
    public var offset: Int
    /// Whether AdamW applies weight decay to it (matrices yes; LayerNorm gains and biases no).
    public var decays: Bool

    public init(name: String, shape: [Int], offset: Int, decays: Bool) {
        self.name = name
        self.shape = shape
        self.offset = offset
        self.decays = decays
    }

    public var count: Int { shape.reduce(1, *) }
}

/// What the trainer needs from a model: all parameters in one flat Float32 buffer, the
/// gradients in a second buffer of the same layout, and a fused forward + backward over
/// one batch. The engine's gpt-mini conforms; tests may supply smaller models.
public protocol LanguageModel: AnyObject {
    var config: GPTConfig { get }
    /// Sequences per batch (each `config.context` tokens long).
    var batchSize: Int { get }
    /// Total floats in `parameters` (and in `gradients`).
    var parameterCount: Int { get }
    /// Every tensor in the flat buffer, in storage order, covering it exactly.
    var parameterTable: [ParameterInfo] { get }
    var parameters: UnsafeMutablePointer<Float> { get }
    var gradients: UnsafeMutablePointer<Float> { get }

    /// Zeroes the gradients, runs forward and backward on one batch and returns the mean
    /// cross-entropy in nats. `inputs` and `targets` are `batchSize × context` token ids,
    /// row-major. Must not allocate.
    func forwardBackward(inputs: UnsafePointer<Int32>, targets: UnsafePointer<Int32>) -> Float

    /// Mean cross-entropy of one batch without touching the gradients.
    func loss(inputs: UnsafePointer<Int32>, targets: UnsafePointer<Int32>) -> Float

    /// Next-token logits (length `vocabSize`) after `tokens` (at most `context` of them,
    /// at least one), for sampling.
    func nextTokenLogits(_ tokens: [Int32]) -> [Float]
}
