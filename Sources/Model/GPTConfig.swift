import Foundation

/// The shape of one gpt-mini model: a pre-LN decoder-only transformer with tied token
/// embeddings, learned positions, no biases in linear layers and a 4·d GELU MLP.
///
/// `d` is the model width (d_model), `layers` the number of blocks (L in the papers),
/// `context` the sequence length T, and `headSize` the width of one attention head
/// (32 by default; one head of 16 or 48 makes useful filler shapes between the tiniest ones).
public struct GPTConfig: Codable, Hashable, Sendable, CustomStringConvertible {
    public var vocabSize: Int
    public var context: Int
    public var d: Int
    public var layers: Int
    public var headSize: Int

    public init(vocabSize: Int = 2048, context: Int = 128, d: Int, layers: Int, headSize: Int = 32) {
        self.vocabSize = vocabSize
        self.context = context
        self.d = d
        self.layers = layers
        self.headSize = headSize
    }

    /// Number of attention heads: d / headSize.
    public var heads: Int { d / headSize }
    /// Hidden width of the MLP.
    public var ffw: Int { 4 * d }

    public var description: String { "d=\(d) L=\(layers) heads=\(heads)×\(headSize) V=\(vocabSize) T=\(context)" }

    /// Checks the shape is one the family can build; the message names the offending field.
    public func validate() throws {
        func fail(_ s: String) -> ModelError { .invalidConfig(s) }
        guard vocabSize >= 2, vocabSize <= 65_536 else { throw fail("vocab size \(vocabSize) must be in 2...65536 (tokens are stored as uint16)") }
        guard context >= 1, context <= Self.maxContext else { throw fail("context \(context) must be in 1...\(Self.maxContext)") }
        guard layers >= 1, layers <= Self.maxLayers else { throw fail("layers \(layers) must be in 1...\(Self.maxLayers)") }
        guard headSize >= 1, d >= 1 else { throw fail("d \(d) and head size \(headSize) must be positive") }
        guard d <= Self.maxWidth else { throw fail("d \(d) must be at most \(Self.maxWidth)") }
        if headSize == 32 {
            guard d % 32 == 0 else { throw fail("d = \(d) is not a multiple of 32 (the head size)") }
        } else {
            guard d % headSize == 0 else { throw fail("d = \(d) is not a multiple of the head size \(headSize)") }
        }
    }

    /// Bounds far above anything a CPU trains, which keep every count below in Int range and
    /// turn a typo (d = 2^40) into an error instead of an allocation of terabytes.
    public static let maxContext = 16_384
    public static let maxWidth = 16_384
    public static let maxLayers = 1_024

    /// Bytes a model of this shape needs to train on `batch` sequences, from below: the
    /// parameters with their gradients and AdamW moments (4 floats each), and per token the
    /// activations the tape keeps and their gradients (embedding, per block ~17·d plus the
    /// attention row of `heads × context`, the final LayerNorm and two V-wide logit rows).
    /// Computed in Double so that absurd shapes cannot overflow.
    public func trainingBytes(batch: Int) -> Double {
        let D = Double(d), T = Double(context), V = Double(vocabSize), L = Double(layers), H = Double(heads)
        let parameterFloats = 4 * (V * D + T * D + L * (12 * D * D + 4 * D) + 2 * D)
        let floatsPerToken = 2 * (2 * D + L * (17 * D + 4 + H * T) + 2 + 2 * V)
        return 4 * (parameterFloats + Double(batch) * T * floatsPerToken)
    }

    /// Throws when training on `batch` sequences would need more than `availableBytes`
    /// (default: this machine's physical memory), naming the shape and both sizes.
    public func checkMemory(batch: Int, availableBytes: Double = Double(ProcessInfo.processInfo.physicalMemory)) throws {
        let need = trainingBytes(batch: batch)
        guard need <= availableBytes else {
            throw ModelError.invalidConfig(String(format: "%@ with batch %d needs at least %.3g GB; this machine has %.3g GB",
                                                  description, batch, need / 1e9, availableBytes / 1e9))
        }
    }

    // MARK: Counting

    /// Parameters in the token embedding (shared with the output projection).
    public var embeddingParameters: Int { vocabSize * d }
    /// Parameters in the learned position embedding.
    public var positionParameters: Int { context * d }
    /// Parameters in one block: two LayerNorms (gain and bias), fused QKV, output
    /// projection, and the two MLP matrices. No linear biases.
    public var blockParameters: Int { 2 * 2 * d + 3 * d * d + d * d + 2 * d * ffw }

    /// N: every parameter, embeddings included (the Chinchilla convention). Tied weights
    /// count once.
    public var parameters: Int { embeddingParameters + positionParameters + layers * blockParameters + 2 * d }

    /// N_nonemb: parameters outside the token and position embeddings (the Kaplan et al.
    /// 2020 convention).
    public var nonEmbeddingParameters: Int { layers * blockParameters + 2 * d }

    /// Forward-pass FLOPs for one sequence of `context` tokens, per Hoffmann et al. 2022,
    /// Appendix F: embeddings, per layer (QKV projections, key·query logits, softmax,
    /// softmax·value reduction, output projection, MLP), then the final logits.
    /// A multiply-add counts as 2 FLOPs.
    public var forwardFLOPsPerSequence: Double {
        let T = Double(context), V = Double(vocabSize), D = Double(d)
        let attnWidth = Double(headSize * heads), H = Double(heads), F = Double(ffw)
        let embeddings = 2 * T * V * D
        let qkv = 2 * 3 * T * D * attnWidth
        let logits = 2 * T * T * attnWidth
        let softmax = 3 * H * T * T
        let reduction = 2 * T * T * attnWidth
        let projection = 2 * T * attnWidth * D
        let dense = 2 * T * (D * F + D * F)
        let finalLogits = 2 * T * D * V
        return embeddings + Double(layers) * (qkv + logits + softmax + reduction + projection + dense) + finalLogits
    }

    /// Training FLOPs per token: the Appendix F forward count × 3 (the backward pass costs
    /// twice the forward).
    public var trainingFLOPsPerToken: Double { 3 * forwardFLOPsPerSequence / Double(context) }

    /// Training FLOPs per token under a counting convention (`FLOPCount`).
    public func trainingFLOPsPerToken(_ count: FLOPCount) -> Double {
        switch count {
        case .appendixF: return trainingFLOPsPerToken
        case .sixN: return 6 * Double(parameters)
        case .kaplan: return 6 * Double(nonEmbeddingParameters)
        }
    }
}

/// How a run's training compute C is counted, which sizes runs for a budget and is the C a fit sees.
public enum FLOPCount: String, Codable, CaseIterable, Sendable {
    /// Hoffmann et al. 2022, Appendix F: embeddings, attention and the final logits included.
    case appendixF = "appendix_f"
    /// C = 6·N·D with N every parameter.
    case sixN = "6n"
    /// Kaplan et al. 2020: C = 6·N_nonemb·D, no embedding, attention-score or output-logit FLOPs.
    case kaplan
}

/// Errors raised while building or loading a model.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    case invalidConfig(String)
    case checkpoint(String)

    public var description: String {
        switch self {
        case .invalidConfig(let s): return "invalid model shape: \(s)"
        case .checkpoint(let s): return "checkpoint: \(s)"
        }
    }
}
