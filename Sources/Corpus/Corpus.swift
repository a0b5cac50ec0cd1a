// Corpora and the data folder: where built text, tokenizers and token files live, the built-in
// corpus recipes (Debian packages, gzip), user corpora, and `prepareCorpus`, which builds
// whatever is missing or stale.
import Foundation
import Tensor
import Tokenizer

/// Paths under the data folder (a contract other targets code against):
///     <root>/corpora/<name>.txt                      corpus text (+ <name>.json for user corpora)
///     <root>/tokenizers/<name>-v<V>/tokenizer.json   trained tokenizer (+ training.json)
///     <root>/tokens/<name>-v<V>/train.u16            tokens (+ train.u16.json sidecar)
///     <root>/tokens/<name>-v<V>/validation.u16       tokens (+ validation.u16.json)
public struct DataLayout: Equatable {
    public var root: String
    public init(root: String = "data") { self.root = root }

    public func corpusText(_ name: String) -> String { "\(root)/corpora/\(name).txt" }
    public func corpusManifest(_ name: String) -> String { "\(root)/corpora/\(name).json" }
    public func tokenizerDirectory(corpus: String, vocab: Int) -> String { "\(root)/tokenizers/\(corpus)-v\(vocab)" }
    public func tokenizer(corpus: String, vocab: Int) -> String { tokenizerDirectory(corpus: corpus, vocab: vocab) + "/tokenizer.json" }
    /// What the tokenizer was trained on; a mismatch with the corpus means it is stale.
    public func tokenizerProvenance(corpus: String, vocab: Int) -> String { tokenizerDirectory(corpus: corpus, vocab: vocab) + "/training.json" }
    public func tokens(corpus: String, vocab: Int, split: Split) -> String { "\(root)/tokens/\(corpus)-v\(vocab)/\(split.rawValue).u16" }
}

/// A built-in corpus: where its text comes from and what it must hash to.
public struct CorpusRecipe {
    public enum Source {
        /// Every file under `directory` whose name ends in `suffix`, sorted by relative path in
        /// byte order (as `LC_ALL=C sort`), concatenated with nothing in between.
        case concatenate(directory: String, suffix: String)
        /// A gzip (or dictzip) file, decompressed with the system's `gzip -dc`.
        case gunzip(path: String)
    }
    public var name: String
    public var summary: String
    public var debianPackage: String
    public var source: Source
    public var bytes: Int
    public var sha256: String

    public static let builtIn: [CorpusRecipe] = [
        CorpusRecipe(name: "pydocs", summary: "Python 3.11 documentation, reStructuredText sources",
                     debianPackage: "python3.11-doc",
                     source: .concatenate(directory: "/usr/share/doc/python3.11/html/_sources", suffix: ".txt"),
                     bytes: 11_048_275, sha256: "4f69e6115088c2444e0059d0973967db9dbc27ae3405343e26fac074aa501701"),
        CorpusRecipe(name: "gcide", summary: "GNU Collaborative International Dictionary of English, dictd text",
                     debianPackage: "dict-gcide",
                     source: .gunzip(path: "/usr/share/dictd/gcide.dict.dz"),
                     bytes: 39_952_321, sha256: "802beb667e1fb666203e750f1faea60d5c202ac5430c2083c4180494609f10a7"),
    ]

    public static func named(_ name: String) -> CorpusRecipe? { builtIn.first { $0.name == name } }
}

/// What `isoflop corpus add` records about a user corpus.
public struct CorpusManifest: Codable, Equatable {
    public var name: String
    public var sources: [String]
    public var bytes: Int
    public var sha256: String
}

/// The files `prepareCorpus` made or found, ready for training.
public struct PreparedCorpus: Equatable {
    public var name: String
    public var vocabSize: Int
    public var text: String
    public var tokenizer: String
    public var train: String
    public var validation: String
    public var trainTokens: Int
    public var validationTokens: Int
    public var corpusSHA256: String
    public var tokenizerSHA256: String
}

/// Where the validation split starts: the first safe cut (`safeCut`: a lone newline between
/// ASCII non-space bytes) at or after 98% of the bytes, so the last ~2% of the text is held out and
/// train + validation tokens equal the tokens of the whole text. Without such a cut, at 98%.
public func validationStart(_ p: UnsafePointer<UInt8>, count n: Int) -> Int {
    let target = n - n / 50
    return safeCut(p, count: n, from: target) ?? target
}

func validName(_ name: String) -> Bool {
    !name.isEmpty && name.utf8.allSatisfy { b in
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F
    }
}

func readBytes(_ path: String) throws -> [UInt8] {
    guard let d = FileManager.default.contents(atPath: path) else { throw CorpusError.io(path: path, reason: "cannot read") }
    return [UInt8](d)
}

func writeBytes(_ bytes: [UInt8], to path: String) throws {
    let url = URL(fileURLWithPath: path)
    do {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url, options: .atomic)
    } catch {
        throw CorpusError.io(path: path, reason: "cannot write: \(error.localizedDescription)")
    }
}

/// Regular files under `path` (itself if a file), sorted by relative path in byte order.
/// `confined` (for folders a user names): a symbolic link whose target lies outside `path`,
/// or an entry that is neither a file nor a folder (a FIFO would block the read), is refused
/// with its name, never followed.
func filesUnder(_ path: String, suffix: String = "", confined: Bool = false) throws -> [String] {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
        throw CorpusError.io(path: path, reason: "no such file or folder")
    }
    if !isDir.boolValue {
        if confined { try checkRegularFile(path) }
        return [path]
    }
    guard let e = FileManager.default.enumerator(atPath: path) else { throw CorpusError.io(path: path, reason: "cannot list") }
    let root = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    var rel = [String]()
    var refused = [String]()
    while let r = e.nextObject() as? String {
        let full = path + "/" + r
        if confined {
            let target = URL(fileURLWithPath: full).resolvingSymlinksInPath().path
            guard target == root || target.hasPrefix(root + "/") else { refused.append("\(full) -> \(target)"); continue }
            var st = stat()
            guard stat(full, &st) == 0 else { refused.append("\(full) (unreadable)"); continue }
            let kind = st.st_mode & S_IFMT
            if kind == S_IFDIR { continue }
            guard kind == S_IFREG else { refused.append("\(full) (not a regular file)"); continue }
        }
        var d: ObjCBool = false
        if r.hasSuffix(suffix), FileManager.default.fileExists(atPath: full, isDirectory: &d), !d.boolValue { rel.append(r) }
    }
    if !refused.isEmpty {
        throw CorpusError.io(path: path, reason: "refusing \(refused.count) entr\(refused.count == 1 ? "y" : "ies") that lead outside the folder or are not files: "
            + refused.prefix(5).joined(separator: ", ") + (refused.count > 5 ? ", …" : ""))
    }
    rel.sort { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    return rel.map { path + "/" + $0 }
}

/// Throws unless `path` is a regular file (after links): reading a FIFO or a device blocks.
func checkRegularFile(_ path: String) throws {
    var st = stat()
    guard stat(path, &st) == 0 else { throw CorpusError.io(path: path, reason: String(cString: strerror(errno))) }
    guard st.st_mode & S_IFMT == S_IFREG else { throw CorpusError.io(path: path, reason: "not a regular file") }
}

/// Builds a built-in corpus's text into the layout and checks its size and sha256.
@discardableResult
public func buildCorpus(_ recipe: CorpusRecipe, layout: DataLayout) throws -> String {
    let out = layout.corpusText(recipe.name)
    var text = [UInt8]()
    switch recipe.source {
    case .concatenate(let dir, let suffix):
        for f in try filesUnder(dir, suffix: suffix) { text += try readBytes(f) }
    case .gunzip(let path):
        guard FileManager.default.fileExists(atPath: path) else {
            throw CorpusError.io(path: path, reason: "missing; install the Debian package \(recipe.debianPackage)")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["gzip", "-dc", path]
        let pipe = Pipe()
        p.standardOutput = pipe
        do { try p.run() } catch { throw CorpusError.io(path: path, reason: "cannot run gzip: \(error)") }
        text = [UInt8](pipe.fileHandleForReading.readDataToEndOfFile())
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw CorpusError.io(path: path, reason: "gzip -dc failed (\(p.terminationStatus))") }
    }
    if text.isEmpty {
        throw CorpusError.emptyInput(source: "corpus \(recipe.name) (install the Debian package \(recipe.debianPackage))")
    }
    let sum = SHA256.hex(text)
    guard sum == recipe.sha256 else { throw CorpusError.checksumMismatch(path: out, expected: recipe.sha256, found: sum) }
    try writeBytes(text, to: out)
    return out
}

/// Registers a user corpus: the files (folders expand to their files, sorted in byte order)
/// concatenated into the layout's text for `name`, with a manifest of sources and checksum.
/// A corpus already registered under `name` with other text is replaced only with `replace`
/// (its tokenizers and token files then name the old text, and are refused until rebuilt).
@discardableResult
public func addCorpus(_ name: String, paths: [String], layout: DataLayout, replace: Bool = false) throws -> CorpusManifest {
    guard validName(name) else { throw CorpusError.badCorpusName(name: name) }
    if CorpusRecipe.named(name) != nil { throw CorpusError.builtInCorpus(name: name) }
    var text = [UInt8]()
    var sources = [String]()
    for p in paths {
        for f in try filesUnder(p, confined: true) { text += try readBytes(f); sources.append(f) }
    }
    guard !text.isEmpty else { throw CorpusError.emptyInput(source: paths.joined(separator: " ")) }
    let manifest = CorpusManifest(name: name, sources: sources, bytes: text.count, sha256: SHA256.hex(text))
    if !replace, let registered = registeredSHA256(name, layout: layout), registered != manifest.sha256 {
        throw CorpusError.corpusExists(name: name, path: layout.corpusManifest(name))
    }
    try writeBytes(text, to: layout.corpusText(name))
    try writeBytes([UInt8](try sortedJSON(manifest)), to: layout.corpusManifest(name))
    return manifest
}

/// The sha256 of the text registered as `name` in `layout`: the recipe's for a built-in
/// corpus, the manifest's for a user corpus; nil when none is registered (or its manifest is
/// unreadable, which `prepareCorpus` reports).
func registeredSHA256(_ name: String, layout: DataLayout) -> String? {
    if let recipe = CorpusRecipe.named(name) { return recipe.sha256 }
    guard validName(name), let data = FileManager.default.contents(atPath: layout.corpusManifest(name)),
          let manifest = try? JSONDecoder().decode(CorpusManifest.self, from: data) else { return nil }
    return manifest.sha256
}

/// Names of the built-in corpora and the user corpora registered in `layout`.
public func knownCorpora(layout: DataLayout) -> [String] {
    var names = CorpusRecipe.builtIn.map(\.name)
    let files = (try? FileManager.default.contentsOfDirectory(atPath: layout.root + "/corpora")) ?? []
    for f in files.sorted() where f.hasSuffix(".json") {
        let n = String(f.dropLast(5))
        if !names.contains(n) { names.append(n) }
    }
    return names
}

struct TokenizerProvenance: Codable, Equatable {
    var corpus: String
    var corpusSHA256: String
    var byteStart: Int
    var byteEnd: Int
    var vocabSize: Int
}

/// Makes sure the corpus text, its tokenizer of `vocabSize` (trained on the train split) and the
/// train/validation token files exist and agree, building only what is missing or stale:
/// a built-in corpus whose text has the wrong checksum is rebuilt; a user corpus whose text no
/// longer matches its manifest is reported; tokenizers and token files that name another corpus
/// checksum or tokenizer are rebuilt.
public func prepareCorpus(_ name: String, vocabSize: Int, layout: DataLayout = DataLayout(), threads: Int = 1,
                          progress: ((String) -> Void)? = nil) throws -> PreparedCorpus {
    guard vocabSize >= 257 else { throw TokenizerError.vocabTooSmall(requested: vocabSize) }
    guard vocabSize <= 65536 else { throw TokenizerError.vocabTooLarge(requested: vocabSize) }
    let (text, corpusSum) = try corpusText(name, layout: layout, progress: progress)
    let cut = text.withUnsafeBufferPointer { validationStart($0.baseAddress!, count: $0.count) }
    guard cut < text.count else { throw CorpusError.noValidation(corpus: name, bytes: text.count) }
    let tokPath = layout.tokenizer(corpus: name, vocab: vocabSize)
    let tok = try corpusTokenizer(name, vocabSize: vocabSize, text: text, trainBytes: cut, corpusSHA256: corpusSum,
                                  layout: layout, threads: threads, progress: progress)
    let tokSum = SHA256.hex(try readBytes(tokPath))
    var counts = [Split: Int]()
    for split in Split.allCases {
        let expected = TokenFileInfo(tokens: 0, vocabSize: tok.vocabSize, tokenizerSHA256: tokSum, corpus: name,
                                     corpusSHA256: corpusSum, split: split, byteStart: split == .train ? 0 : cut,
                                     byteEnd: split == .train ? cut : text.count)
        counts[split] = try tokenFile(layout.tokens(corpus: name, vocab: vocabSize, split: split), of: text,
                                      expected: expected, tokenizer: tok, threads: threads, progress: progress)
    }
    return PreparedCorpus(name: name, vocabSize: vocabSize, text: layout.corpusText(name), tokenizer: tokPath,
                          train: layout.tokens(corpus: name, vocab: vocabSize, split: .train),
                          validation: layout.tokens(corpus: name, vocab: vocabSize, split: .validation),
                          trainTokens: counts[.train]!, validationTokens: counts[.validation]!,
                          corpusSHA256: corpusSum, tokenizerSHA256: tokSum)
}

/// The corpus text and its checksum: a built-in corpus is (re)built when missing or when its
/// checksum is not the recipe's; a user corpus must still match its manifest.
func corpusText(_ name: String, layout: DataLayout, progress: ((String) -> Void)?) throws -> (text: [UInt8], sha256: String) {
    let textPath = layout.corpusText(name)
    var text: [UInt8]
    let corpusSum: String
    if let recipe = CorpusRecipe.named(name) {
        text = (try? readBytes(textPath)) ?? []
        if text.count != recipe.bytes || SHA256.hex(text) != recipe.sha256 {
            progress?("building corpus \(name) from \(recipe.debianPackage)")
            try buildCorpus(recipe, layout: layout)
            text = try readBytes(textPath)
        }
        corpusSum = recipe.sha256
    } else {
        guard validName(name), let m = FileManager.default.contents(atPath: layout.corpusManifest(name)),
              let manifest = try? JSONDecoder().decode(CorpusManifest.self, from: m) else {
            throw CorpusError.unknownCorpus(name: name, known: knownCorpora(layout: layout))
        }
        text = try readBytes(textPath)
        let sum = SHA256.hex(text)
        guard sum == manifest.sha256 else { throw CorpusError.checksumMismatch(path: textPath, expected: manifest.sha256, found: sum) }
        corpusSum = sum
    }
    guard !text.isEmpty else { throw CorpusError.emptyInput(source: textPath) }
    return (text, corpusSum)
}

/// The tokenizer of `vocabSize` trained on the first `trainBytes` of the text: the saved one
/// when its provenance names this corpus, split and size, else trained anew and saved.
func corpusTokenizer(_ name: String, vocabSize: Int, text: [UInt8], trainBytes cut: Int, corpusSHA256: String,
                     layout: DataLayout, threads: Int, progress: ((String) -> Void)?) throws -> BPETokenizer {
    let tokPath = layout.tokenizer(corpus: name, vocab: vocabSize)
    let provPath = layout.tokenizerProvenance(corpus: name, vocab: vocabSize)
    let wanted = TokenizerProvenance(corpus: name, corpusSHA256: corpusSHA256, byteStart: 0, byteEnd: cut, vocabSize: vocabSize)
    if let d = FileManager.default.contents(atPath: provPath), (try? JSONDecoder().decode(TokenizerProvenance.self, from: d)) == wanted,
       let saved = try? BPETokenizer.load(from: tokPath) {
        return saved
    }
    progress?("training a \(vocabSize)-token tokenizer on \(name) (\(cut) bytes)")
    let t = try text.withUnsafeBufferPointer {
        try BPETokenizer.train($0.baseAddress!, count: cut, vocabSize: vocabSize, threads: threads, source: layout.corpusText(name))
    }
    try t.checkReached(vocabSize, source: "corpus \(name) (\(cut) bytes in its train split)")
    try t.save(to: tokPath)
    try writeBytes([UInt8](try sortedJSON(wanted)), to: provPath)
    return t
}

/// The token file of one split at `path`, kept when its sidecar matches `expected` (and its
/// size its count), else encoded anew; returns its token count.
func tokenFile(_ path: String, of text: [UInt8], expected: TokenFileInfo, tokenizer tok: BPETokenizer, threads: Int,
               progress: ((String) -> Void)?) throws -> Int {
    if var info = try? TokenFileInfo.read(for: path), let attrs = try? FileManager.default.attributesOfItem(atPath: path),
       (attrs[.size] as? NSNumber)?.intValue == info.tokens * 2 {
        let n = info.tokens
        info.tokens = 0
        if info == expected { return n }
    }
    let range = expected.byteStart..<expected.byteEnd
    progress?("encoding the \(expected.split.rawValue) split of \(expected.corpus) (\(range.count) bytes)")
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    let tokens = text.withUnsafeBufferPointer { tok.encodeUInt16($0.baseAddress! + range.lowerBound, count: range.count, threads: threads) }
    try TokenFile.write(tokens, to: path)
    var info = expected
    info.tokens = tokens.count
    try info.write(for: path)
    return tokens.count
}
