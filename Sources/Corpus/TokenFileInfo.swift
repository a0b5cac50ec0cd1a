// The sidecar of a token file, `<file>.json`: which tokenizer and which bytes of which corpus
// produced its tokens, so a stale file is rebuilt rather than trained on.
import Foundation
import Tensor
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
        return try parse(data, sidecar: side)
    }

    /// Decodes and checks the bytes of a sidecar; `sidecar` (its path) goes into messages.
    public static func parse(_ data: Data, sidecar: String) throws -> TokenFileInfo {
        let info: TokenFileInfo
        do { info = try JSONDecoder().decode(TokenFileInfo.self, from: data) } catch let e as DecodingError {
            throw CorpusError.badSidecar(path: sidecar, reason: describeDecodingError(e))
        } catch {
            throw CorpusError.badSidecar(path: sidecar, reason: "not valid JSON")
        }
        try info.validate(sidecar: sidecar)
        return info
    }

    /// Every field in its range; `sidecar` (the file's path) goes into the message.
    public func validate(sidecar: String) throws {
        func bad(_ key: String, _ value: Any, _ why: String) -> CorpusError {
            .badSidecar(path: sidecar, reason: "'\(key)' \(value) \(why)")
        }
        guard format == "uint16-le" else { throw bad("format", format, "is not uint16-le") }
        guard tokens >= 0 else { throw bad("tokens", tokens, "must not be negative") }
        guard (2...65_536).contains(vocabSize) else { throw bad("vocabSize", vocabSize, "must be in 2...65536") }
        let isDigest = { (s: String) in s.count == 64 && s.allSatisfy(\.isHexDigit) }
        guard isDigest(tokenizerSHA256) else { throw bad("tokenizerSHA256", tokenizerSHA256, "is not a sha256 digest") }
        guard isDigest(corpusSHA256) else { throw bad("corpusSHA256", corpusSHA256, "is not a sha256 digest") }
        guard byteStart >= 0, byteStart <= byteEnd else { throw bad("byteStart", byteStart, "must be in 0...byteEnd \(byteEnd)") }
    }

    /// Checks a token file against what reads it: its sidecar (when there is one) must say
    /// uint16 tokens of a `vocabSize` vocabulary made by the tokenizer at `tokenizerPath`
    /// (compared by sha256), and count the file's tokens.
    public static func checkSidecar(_ path: String, vocabSize: Int, tokenizerPath: String?) throws {
        guard FileManager.default.fileExists(atPath: TokenFileInfo.path(for: path)) else { return }
        let info = try read(for: path)
        guard info.vocabSize == vocabSize else {
            throw CorpusError.badSidecar(path: path, reason: "its sidecar says vocabulary \(info.vocabSize), the run needs \(vocabSize)")
        }
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size / 2 != info.tokens {
            throw CorpusError.badSidecar(path: path, reason: "holds \(size / 2) tokens, its sidecar says \(info.tokens)")
        }
        try info.checkCorpus(path)
        if let tokenizerPath, let bytes = FileManager.default.contents(atPath: tokenizerPath) {
            let digest = SHA256.hex(Array(bytes))
            guard digest == info.tokenizerSHA256 else {
                throw CorpusError.badSidecar(path: path, reason: "was made by another tokenizer than \(tokenizerPath) (sha256 \(info.tokenizerSHA256.prefix(12))…, not \(digest.prefix(12))…)")
            }
        }
    }
}

extension TokenFileInfo {
    /// Checks that the token file at `path` (when it has a sidecar) was encoded from the text its
    /// corpus holds now: `corpus add NAME --replace` of other text leaves token files that
    /// still name the old text's sha256.
    public static func checkCorpus(_ path: String) throws {
        guard FileManager.default.fileExists(atPath: TokenFileInfo.path(for: path)) else { return }
        try read(for: path).checkCorpus(path)
    }

    /// The corpus is looked up in the data folder the file lies in (`ROOT/tokens/NAME-vV/x.u16`),
    /// else in `data`; a corpus registered in neither cannot be checked and passes.
    func checkCorpus(_ path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        let tokens = (folder as NSString).deletingLastPathComponent
        let layout = (tokens as NSString).lastPathComponent == "tokens"
            ? DataLayout(root: { $0.isEmpty ? "." : $0 }((tokens as NSString).deletingLastPathComponent)) : DataLayout()
        guard let current = registeredSHA256(corpus, layout: layout), current != corpusSHA256 else { return }
        let data = layout.root == DataLayout().root ? "" : " --data \(layout.root)"
        throw CorpusError.staleTokens(path: path, corpus: corpus, recorded: corpusSHA256, current: current,
                                      rebuild: "isoflop tokenizer train --corpus \(corpus) --vocab \(vocabSize)\(data)")
    }

    /// Writes this sidecar beside the token file at `path`.
    public func write(for path: String) throws {
        do { try sortedJSON(self).write(to: URL(fileURLWithPath: TokenFileInfo.path(for: path)), options: .atomic) } catch {
            throw CorpusError.io(path: TokenFileInfo.path(for: path), reason: "cannot write: \(error.localizedDescription)")
        }
    }
}
