// The byte-level BPE tokenizer: vocabulary (bytes of each id), merges in rank order, special
// tokens; encoding by merge rank with a word cache, parallel and streaming; exact decoding.
import Foundation

/// One learned merge: `left` followed by `right` becomes `result`; its rank is its index.
public struct Merge: Equatable {
    public var left: Int
    public var right: Int
    public var result: Int
    public init(left: Int, right: Int, result: Int) { self.left = left; self.right = right; self.result = result }
}

/// A token matched literally in the input before pre-tokenization, e.g. `<|endoftext|>`.
public struct SpecialToken: Equatable {
    public var content: String
    public var id: Int
    public init(content: String, id: Int) { self.content = content; self.id = id }
}

public struct BPETokenizer {
    /// The special token that separates documents; the trainer gives it the last id.
    public static let endOfText = "<|endoftext|>"

    /// The bytes each id stands for (a special token's are its UTF-8 text).
    public let vocab: [[UInt8]]
    public let merges: [Merge]
    public let specialTokens: [SpecialToken]
    /// id of each single byte (identity for tokenizers we train; any order for loaded ones).
    let byteIds: [Int32]
    /// (left << 16 | right) -> rank << 32 | result, first occurrence of a pair wins.
    let ranks: PairRankTable
    let specialBytes: [[UInt8]]

    public var vocabSize: Int { vocab.count }
    public var endOfTextId: Int? { specialTokens.first { $0.content == Self.endOfText }?.id }

    /// Checks that every byte has a token, merges name existing ids whose bytes concatenate to
    /// the result's, and ids fit uint16 token files.
    public init(vocab: [[UInt8]], merges: [Merge], specialTokens: [SpecialToken], source: String = "tokenizer") throws {
        guard vocab.count <= 65536 else { throw TokenizerError.vocabTooLarge(requested: vocab.count) }
        var byteIds = [Int32](repeating: -1, count: 256)
        let specialIds = Set(specialTokens.map(\.id))
        for (id, bytes) in vocab.enumerated() where bytes.count == 1 && !specialIds.contains(id) {
            if byteIds[Int(bytes[0])] < 0 { byteIds[Int(bytes[0])] = Int32(id) }
        }
        if let missing = byteIds.firstIndex(of: -1) {
            throw TokenizerError.notATokenizer(path: source, reason: "no token for byte \(missing)")
        }
        var ranks = [UInt32: UInt64](minimumCapacity: merges.count)
        for (r, m) in merges.enumerated() {
            guard vocab.indices.contains(m.left), vocab.indices.contains(m.right), vocab.indices.contains(m.result),
                  vocab[m.left] + vocab[m.right] == vocab[m.result] else {
                throw TokenizerError.notATokenizer(path: source, reason: "merge \(r) does not match the vocabulary")
            }
            let key = UInt32(m.left) << 16 | UInt32(m.right)
            if ranks[key] == nil { ranks[key] = UInt64(r) << 32 | UInt64(m.result) }
        }
        for s in specialTokens where !vocab.indices.contains(s.id) || vocab[s.id] != Array(s.content.utf8) || s.content.isEmpty {
            throw TokenizerError.notATokenizer(path: source, reason: "special token \(s.content) does not match id \(s.id)")
        }
        self.vocab = vocab
        self.merges = merges
        self.specialTokens = specialTokens
        self.byteIds = byteIds
        self.ranks = PairRankTable(ranks)
        self.specialBytes = specialTokens.map { Array($0.content.utf8) }
    }

    // MARK: encoding

    /// Token ids of `bytes`, split over `threads` pieces at safe cuts (same result for any count).
    public func encode(_ bytes: [UInt8], threads: Int = 1) -> [Int] {
        encodeUInt16(bytes, threads: threads).map(Int.init)
    }

    public func encode(_ text: String) -> [Int] { encode(Array(text.utf8)) }

    public func encodeUInt16(_ bytes: [UInt8], threads: Int = 1) -> [UInt16] {
        bytes.withUnsafeBufferPointer { buf in
            guard let base = buf.baseAddress else { return [] }
            return encodeUInt16(base, count: buf.count, threads: threads)
        }
    }

    public func encodeUInt16(_ p: UnsafePointer<UInt8>, count n: Int, threads: Int) -> [UInt16] {
        let pieces = safePieces(p, count: n, parts: max(1, threads))
        if pieces.count <= 1 {
            var out = [UInt16]()
            out.reserveCapacity(n / 3)
            WordEncoder(self).encode(p, count: n, into: &out)
            return out
        }
        var outs = [[UInt16]](repeating: [], count: pieces.count)
        outs.withUnsafeMutableBufferPointer { slots in
            DispatchQueue.concurrentPerform(iterations: pieces.count) { k in
                var out = [UInt16]()
                out.reserveCapacity(pieces[k].count / 3)
                WordEncoder(self).encode(p + pieces[k].lowerBound, count: pieces[k].count, into: &out)
                slots[k] = out
            }
        }
        return Array(outs.joined())
    }

    /// Encodes bytes `range` of the file at `input` (all of it by default) into little-endian
    /// uint16 tokens at `output`, reading `blockBytes` at a time, so the input need not fit in
    /// memory. Blocks end at safe cuts; a block without one grows until it has one. Only a
    /// regular file is read, and an empty one (with no range given) is an error.
    /// Returns the number of tokens written.
    @discardableResult
    public func encodeFile(input: String, range: Range<Int>? = nil, output: String, threads: Int = 1,
                           blockBytes: Int = 32 << 20) throws -> Int {
        let inHandle = FileHandle(fileDescriptor: try InputFile.open(input), closeOnDealloc: true)
        func failed(_ error: Error) -> TokenizerError { .io(path: input, reason: "cannot read: \(error.localizedDescription)") }
        let size: Int
        do { size = Int(try inHandle.seekToEnd()) } catch { throw failed(error) }
        let r = range ?? 0..<size
        guard r.lowerBound >= 0, r.upperBound <= size else {
            throw TokenizerError.io(path: input, reason: "byte range \(r) is outside a file of \(size) bytes")
        }
        guard range != nil || size > 0 else { throw TokenizerError.emptyInput(source: input) }
        do { try inHandle.seek(toOffset: UInt64(r.lowerBound)) } catch { throw failed(error) }
        guard FileManager.default.createFile(atPath: output, contents: nil),
              let outHandle = FileHandle(forWritingAtPath: output) else {
            throw TokenizerError.io(path: output, reason: "cannot create")
        }
        defer { try? outHandle.close() }
        var carry = [UInt8]()
        var remaining = r.count
        var written = 0
        while true {
            if remaining > 0 {
                let data: Data
                do { data = try inHandle.read(upToCount: min(remaining, max(1, blockBytes))) ?? Data() } catch { throw failed(error) }
                if data.isEmpty { throw TokenizerError.io(path: input, reason: "file shrank while reading") }
                carry.append(contentsOf: data)
                remaining -= data.count
            }
            let final = remaining == 0
            let end = final ? carry.count : carry.withUnsafeBufferPointer { lastSafeCut($0.baseAddress!, count: $0.count) ?? 0 }
            if end == 0 && !final { continue }  // no safe cut yet: read more
            let tokens = end == 0 ? [] : carry.withUnsafeBufferPointer { encodeUInt16($0.baseAddress!, count: end, threads: threads) }
            try writeLittleEndian(tokens, to: outHandle)
            written += tokens.count
            carry.removeFirst(end)
            if final { break }
        }
        return written
    }

    // MARK: decoding

    /// The exact bytes of `ids`; throws on an id outside the vocabulary.
    public func decode(_ ids: [Int]) throws -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(ids.count * 3)
        for (pos, id) in ids.enumerated() {
            guard id >= 0 && id < vocab.count else {
                throw TokenizerError.tokenOutOfRange(id: id, vocabSize: vocab.count, position: pos)
            }
            out.append(contentsOf: vocab[id])
        }
        return out
    }

    /// Decoded bytes as text, invalid UTF-8 replaced by U+FFFD.
    public func decodeText(_ ids: [Int]) throws -> String { String(decoding: try decode(ids), as: UTF8.self) }
}

func writeLittleEndian(_ tokens: [UInt16], to handle: FileHandle) throws {
    let data = tokens.withUnsafeBufferPointer { buf -> Data in
        var d = Data(count: buf.count * 2)
        d.withUnsafeMutableBytes { raw in
            let o = raw.bindMemory(to: UInt8.self)
            for k in 0..<buf.count {
                o[2 * k] = UInt8(truncatingIfNeeded: buf[k])
                o[2 * k + 1] = UInt8(truncatingIfNeeded: buf[k] >> 8)
            }
        }
        return d
    }
    try handle.write(contentsOf: data)
}

/// Merge ranks in an open-addressing table of raw memory, so encoder threads share it without
/// reference counting: (left << 16 | right) -> rank << 32 | result.
final class PairRankTable {
    let keys: UnsafeMutablePointer<UInt32>
    let values: UnsafeMutablePointer<UInt64>
    let mask: Int
    static let absent = UInt64.max

    init(_ ranks: [UInt32: UInt64]) {
        var c = 64
        while c < ranks.count * 2 { c <<= 1 }
        mask = c - 1
        keys = .allocate(capacity: c)
        keys.initialize(repeating: 0, count: c)
        values = .allocate(capacity: c)
        values.initialize(repeating: Self.absent, count: c)
        for (k, v) in ranks {
            var s = Self.slot(k, mask)
            while values[s] != Self.absent { s = (s + 1) & mask }
            keys[s] = k
            values[s] = v
        }
    }

    deinit { keys.deallocate(); values.deallocate() }

    @inline(__always) static func slot(_ k: UInt32, _ mask: Int) -> Int { Int(truncatingIfNeeded: (UInt64(k) &* 0x9E3779B97F4A7C15) >> 40) & mask }

    subscript(_ k: UInt32) -> UInt64? {
        let v = rankLookup(keys, values, mask, k)
        return v == Self.absent ? nil : v
    }
}

/// rank << 32 | result of the pair key, or `PairRankTable.absent`.
@inline(__always) func rankLookup(_ keys: UnsafeMutablePointer<UInt32>, _ values: UnsafeMutablePointer<UInt64>, _ mask: Int, _ k: UInt32) -> UInt64 {
    var s = PairRankTable.slot(k, mask)
    while true {
        let v = values[s]
        if v == PairRankTable.absent || keys[s] == k { return v }
        s = (s + 1) & mask
    }
}

/// Per-thread encoding state: the word cache and a scratch buffer for merging one word.
final class WordEncoder {
    let tok: BPETokenizer
    let cache = ByteStringTable(capacity: 1 << 16)
    var cached = [UInt16]()
    var scratch = [Int32](repeating: 0, count: 256)
    let byteIds: UnsafeMutablePointer<Int32>
    let rankKeys: UnsafeMutablePointer<UInt32>
    let rankValues: UnsafeMutablePointer<UInt64>
    let rankMask: Int
    static let cacheLimit = 1 << 20

    init(_ tok: BPETokenizer) {
        self.tok = tok
        byteIds = .allocate(capacity: 256)
        for b in 0..<256 { byteIds[b] = tok.byteIds[b] }
        rankKeys = tok.ranks.keys
        rankValues = tok.ranks.values
        rankMask = tok.ranks.mask
    }

    deinit { byteIds.deallocate() }

    /// Encodes `n` bytes at `p`, matching special tokens literally first.
    func encode(_ p: UnsafePointer<UInt8>, count n: Int, into out: inout [UInt16]) {
        splitAtSpecials(p, count: n, specials: tok.specialBytes,
                        ordinary: { r in encodeOrdinary(p + r.lowerBound, count: r.count, into: &out) },
                        special: { k in out.append(UInt16(tok.specialTokens[k].id)) })
    }

    private func encodeOrdinary(_ p: UnsafePointer<UInt8>, count n: Int, into out: inout [UInt16]) {
        var it = PreTokenizer(p, count: n)
        while let r = it.next() {
            let w = p + r.start
            let len = r.end - r.start
            let h = ByteStringTable.hash(w, len)
            if let e = cache.find(w, len, hash: h) {
                let v = cache.values[e]
                let start = v >> 24, cnt = v & 0xFFFFFF
                for k in start..<(start + cnt) { out.append(cached[k]) }
                continue
            }
            let m = mergeWord(w, len)
            if cache.count >= Self.cacheLimit { cache.removeAll(); cached.removeAll(keepingCapacity: true) }
            let start = cached.count
            for k in 0..<m { cached.append(UInt16(truncatingIfNeeded: scratch[k])); out.append(UInt16(truncatingIfNeeded: scratch[k])) }
            _ = cache.findOrInsert(w, len, hash: h, value: start << 24 | m)
        }
    }

    /// BPE on one word: repeatedly merge the lowest-ranked adjacent pair (leftmost on ties,
    /// all its occurrences left to right). Leaves the ids in `scratch[0..<m]`, returns m.
    private func mergeWord(_ w: UnsafePointer<UInt8>, _ len: Int) -> Int {
        if len > 64 { return mergeLongWord(w, len) }
        if scratch.count < len { scratch = [Int32](repeating: 0, count: len) }
        for k in 0..<len { scratch[k] = byteIds[Int(w[k])] }
        var m = len
        while m > 1 {
            var best = PairRankTable.absent
            var pos = -1
            for k in 0..<(m - 1) {
                let v = rankLookup(rankKeys, rankValues, rankMask, UInt32(scratch[k]) << 16 | UInt32(scratch[k + 1]))
                if v < best { best = v; pos = k }
            }
            if pos < 0 { break }
            let a = scratch[pos], b = scratch[pos + 1]
            let result = Int32(truncatingIfNeeded: best & 0xFFFF_FFFF)
            var wr = pos, rd = pos
            while rd < m {
                if rd + 1 < m && scratch[rd] == a && scratch[rd + 1] == b { scratch[wr] = result; rd += 2 }
                else { scratch[wr] = scratch[rd]; rd += 1 }
                wr += 1
            }
            m = wr
        }
        return m
    }

    /// The same merges for a long word in O(n log n): symbols in a linked list, candidate pairs
    /// in a min-heap keyed by (rank, position), stale entries skipped when popped. Lowest rank
    /// first, leftmost among equal ranks, as in `mergeWord`.
    private func mergeLongWord(_ w: UnsafePointer<UInt8>, _ len: Int) -> Int {
        var id = [Int32](repeating: 0, count: len)
        var next = [Int](repeating: -1, count: len)
        var prev = [Int](repeating: -1, count: len)
        var alive = [Bool](repeating: true, count: len)
        for k in 0..<len {
            id[k] = byteIds[Int(w[k])]
            next[k] = k + 1 < len ? k + 1 : -1
            prev[k] = k - 1
        }
        var heap = [UInt64]()
        func rank(_ a: Int32, _ b: Int32) -> UInt64? { tok.ranks[UInt32(a) << 16 | UInt32(b)] }
        func push(_ pos: Int) {
            guard pos >= 0, next[pos] >= 0, let v = rank(id[pos], id[next[pos]]) else { return }
            heap.append((v >> 32) << 32 | UInt64(pos))
            var i = heap.count - 1
            while i > 0 && heap[(i - 1) / 2] > heap[i] { heap.swapAt(i, (i - 1) / 2); i = (i - 1) / 2 }
        }
        func pop() -> UInt64 {
            let top = heap[0]
            let last = heap.removeLast()
            if !heap.isEmpty {
                heap[0] = last
                var i = 0
                while true {
                    var c = 2 * i + 1
                    if c >= heap.count { break }
                    if c + 1 < heap.count && heap[c + 1] < heap[c] { c += 1 }
                    if heap[i] <= heap[c] { break }
                    heap.swapAt(i, c)
                    i = c
                }
            }
            return top
        }
        for k in 0..<(len - 1) { push(k) }
        while !heap.isEmpty {
            let top = pop()
            let pos = Int(top & 0xFFFF_FFFF)
            guard alive[pos], next[pos] >= 0, let v = rank(id[pos], id[next[pos]]), v >> 32 == top >> 32 else { continue }
            let nx = next[pos]
            id[pos] = Int32(truncatingIfNeeded: v & 0xFFFF_FFFF)
            alive[nx] = false
            next[pos] = next[nx]
            if next[nx] >= 0 { prev[next[nx]] = pos }
            push(prev[pos])
            push(pos)
        }
        if scratch.count < len { scratch = [Int32](repeating: 0, count: len) }
        var m = 0
        var k = 0
        while k >= 0 { scratch[m] = id[k]; m += 1; k = next[k] }
        return m
    }
}
