// The sidecar of a token file, `<file>.json`: which tokenizer and which bytes of which corpus
// produced its tokens, so a stale file is rebuilt rather than trained on.
import Foundation
import Tokenizer

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

extension TokenFileInfo {
    public static func path(for tokens: String) -> String { tokens + ".json" }

    /// The sidecar of the token file at `path`.
    public static func read(for path: String) throws -> TokenFileInfo {
        let side = TokenFileInfo.path(for: path)
        guard let data = FileManager.default.contents(atPath: side) else {
            throw CorpusError.badSidecar(path: path, reason: "no sidecar \(side)")
        }
        do { return try JSONDecoder().decode(TokenFileInfo.self, from: data) } catch {
            throw CorpusError.badSidecar(path: path, reason: "sidecar is not valid: \(error)")
        }
    }

    /// Writes this sidecar beside the token file at `path`.
    public func write(for path: String) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        do { try enc.encode(self).write(to: URL(fileURLWithPath: TokenFileInfo.path(for: path)), options: .atomic) } catch {
            throw CorpusError.io(path: TokenFileInfo.path(for: path), reason: "cannot write: \(error.localizedDescription)")
        }
    }
}
