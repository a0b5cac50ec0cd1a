// Which N a scaling fit takes. It lives here because the two targets that name it, the sweep's
// config (Sweep) and the fitter (Fit), share no target above this one.

/// Which parameters N counts: all of them (Hoffmann et al. 2022) or all but the embeddings
/// (Kaplan et al. 2020). The choice moves the fitted exponent (Pearce & Song 2024). Configs,
/// stores and `--params` spell it "total" or "nonemb" (the raw values).
public enum ParameterConvention: String, Codable, CaseIterable, Sendable {
    case total
    case nonEmbedding = "nonemb"

    public var label: String { self == .total ? "total" : "non-embedding" }

    /// How a fit report's JSON spells it ("total", "nonEmbedding"), as it always has.
    public var reportName: String { self == .total ? "total" : "nonEmbedding" }

    /// Reads the config spelling and, for fit reports, `reportName`.
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let text = try c.decode(String.self)
        guard let value = ParameterConvention(rawValue: text) ?? Self.allCases.first(where: { $0.reportName == text }) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "\(String(reflecting: text)) must be \"total\" or \"nonemb\"")
        }
        self = value
    }
}
