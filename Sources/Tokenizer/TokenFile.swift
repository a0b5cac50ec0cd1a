// Token files: little-endian uint16 ids, with a JSON sidecar `<file>.json` that says which
// tokenizer and which bytes of which corpus produced them.
import Foundation

public enum Split: String, Codable, CaseIterable {
    case train, validation
}

/// The sidecar of a token file.
public struct TokenFileInfo: Codable, Equatable {
    public var format = "uint16-le"
    public var tokens: Int
    public var vocabSize: Int
    /// sha256 of the tokenizer.json bytes.
    public var tokenizerSHA256: String
    public var corpus: String
    /// sha256 of the whole corpus text, and the bytes [start, end) of it this split holds.
    public var corpusSHA256: String
    public var split: Split
    public var byteStart: Int
    public var byteEnd: Int

    public init(tokens: Int, vocabSize: Int, tokenizerSHA256: String, corpus: String, corpusSHA256: String,
                split: Split, byteStart: Int, byteEnd: Int) {
        self.tokens = tokens; self.vocabSize = vocabSize; self.tokenizerSHA256 = tokenizerSHA256
        self.corpus = corpus; self.corpusSHA256 = corpusSHA256; self.split = split
        self.byteStart = byteStart; self.byteEnd = byteEnd
    }
}

public enum TokenFile {
    public static func sidecarPath(_ path: String) -> String { path + ".json" }

    /// All tokens of a file (little-endian uint16).
    public static func read(_ path: String) throws -> [UInt16] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TokenizerError.io(path: path, reason: "cannot read")
        }
        guard data.count % 2 == 0 else { throw TokenizerError.badTokenFile(path: path, reason: "odd size \(data.count) bytes") }
        var out = [UInt16](repeating: 0, count: data.count / 2)
        data.withUnsafeBytes { raw in
            let b = raw.bindMemory(to: UInt8.self)
            for k in 0..<out.count { out[k] = UInt16(b[2 * k]) | UInt16(b[2 * k + 1]) << 8 }
        }
        return out
    }

    public static func write(_ tokens: [UInt16], to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path) else {
            throw TokenizerError.io(path: path, reason: "cannot create")
        }
        defer { try? h.close() }
        try writeLittleEndian(tokens, to: h)
    }

    public static func readInfo(_ path: String) throws -> TokenFileInfo {
        let side = sidecarPath(path)
        guard let data = FileManager.default.contents(atPath: side) else {
            throw TokenizerError.badTokenFile(path: path, reason: "no sidecar \(side)")
        }
        do { return try JSONDecoder().decode(TokenFileInfo.self, from: data) } catch {
            throw TokenizerError.badTokenFile(path: path, reason: "sidecar is not valid: \(error)")
        }
    }

    public static func writeInfo(_ info: TokenFileInfo, for path: String) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        do { try enc.encode(info).write(to: URL(fileURLWithPath: sidecarPath(path)), options: .atomic) } catch {
            throw TokenizerError.io(path: sidecarPath(path), reason: "cannot write: \(error.localizedDescription)")
        }
    }
}
