// BPE training: count pre-tokenized words once, then merge with an incremental pair index.
//
// Each unique word is a run of symbol ids with its frequency. For every pair we keep its total
// count and the words it occurs in; a max-heap holds (count, pair) entries, refreshed lazily: a
// popped entry whose count is stale is pushed back with the current count. A merge only revisits
// the words listed under the merged pair. Only pairs containing the new token can gain count,
// so only those are pushed after a merge.
//
// Tie rule: among pairs of equal count the one with the smallest (left id, right id) wins,
// comparing left ids first; byte tokens have ids 0...255 = their byte values, merged tokens
// follow in the order they were made, and `<|endoftext|>` takes the last id (vocabSize - 1).
import Foundation

extension BPETokenizer {
    /// Trains a tokenizer of `vocabSize` ids (256 bytes, merges, `<|endoftext|>`) on `bytes`.
    /// Counting runs over `threads` pieces; the result does not depend on `threads`.
    public static func train(_ bytes: [UInt8], vocabSize: Int, threads: Int = 1, source: String = "input") throws -> BPETokenizer {
        try bytes.withUnsafeBufferPointer { buf in
            guard let base = buf.baseAddress, buf.count > 0 else { throw TokenizerError.emptyInput(source: source) }
            return try train(base, count: buf.count, vocabSize: vocabSize, threads: threads, source: source)
        }
    }

    public static func train(_ p: UnsafePointer<UInt8>, count n: Int, vocabSize: Int, threads: Int = 1,
                             source: String = "input") throws -> BPETokenizer {
        guard vocabSize >= 257 else { throw TokenizerError.vocabTooSmall(requested: vocabSize) }
        guard vocabSize <= 65536 else { throw TokenizerError.vocabTooLarge(requested: vocabSize) }
        guard n > 0 else { throw TokenizerError.emptyInput(source: source) }
        let words = countWords(p, count: n, threads: threads, specials: [Array(endOfText.utf8)])
        var (vocab, merges) = mergeWords(words, target: vocabSize - 1)
        vocab.append(Array(endOfText.utf8))
        return try BPETokenizer(vocab: vocab, merges: merges,
                                specialTokens: [SpecialToken(content: endOfText, id: vocab.count - 1)], source: source)
    }

    /// Throws when training stopped short of `vocabSize`: a text with too few distinct pairs to
    /// merge gives a smaller vocabulary, which a tokenizer saved under the size asked for (and
    /// a config that names that size) would misstate.
    public func checkReached(_ vocabSize: Int, source: String) throws {
        guard self.vocabSize >= vocabSize else {
            throw TokenizerError.vocabNotReached(source: source, requested: vocabSize, reached: self.vocabSize)
        }
    }
}

/// Frequencies of the pre-tokens of `p[0..<n]`, counted in parallel pieces and summed.
/// Special tokens in the text are left out, so their bytes are never learned as merges.
func countWords(_ p: UnsafePointer<UInt8>, count n: Int, threads: Int, specials: [[UInt8]]) -> ByteStringTable {
    let pieces = safePieces(p, count: n, parts: max(1, threads))
    let tables = pieces.map { _ in ByteStringTable(capacity: 1 << 17) }
    DispatchQueue.concurrentPerform(iterations: pieces.count) { k in
        let t = tables[k]
        let base = p + pieces[k].lowerBound
        splitAtSpecials(base, count: pieces[k].count, specials: specials, ordinary: { seg in
            var it = PreTokenizer(base + seg.lowerBound, count: seg.count)
            while let r = it.next() {
                let w = base + seg.lowerBound + r.start
                let len = r.end - r.start
                let (e, inserted) = t.findOrInsert(w, len, hash: ByteStringTable.hash(w, len), value: 1)
                if !inserted { t.values[e] += 1 }
            }
        }, special: { _ in })
    }
    let total = tables[0]
    for t in tables.dropFirst() {
        for e in 0..<t.count {
            let key = t.key(e)
            let h = ByteStringTable.hash(key.baseAddress!, key.count)
            let (f, inserted) = total.findOrInsert(key.baseAddress!, key.count, hash: h, value: t.values[e])
            if !inserted { total.values[f] += t.values[e] }
        }
    }
    return total
}

/// A binary max-heap of packed (count << 32 | ~pair) keys.
struct PairHeap {
    var a: [UInt64] = []

    static func key(count: Int, pair: UInt32) -> UInt64 { UInt64(count) << 32 | UInt64(~pair) }

    mutating func push(_ k: UInt64) {
        a.append(k)
        var i = a.count - 1
        while i > 0 {
            let parent = (i - 1) >> 1
            if a[parent] >= k { break }
            a[i] = a[parent]
            i = parent
        }
        a[i] = k
    }

    mutating func pop() -> UInt64? {
        guard let top = a.first else { return nil }
        let last = a.removeLast()
        if a.isEmpty { return top }
        var i = 0
        let n = a.count
        while true {
            var c = 2 * i + 1
            if c >= n { break }
            if c + 1 < n && a[c + 1] > a[c] { c += 1 }
            if a[c] <= last { break }
            a[i] = a[c]
            i = c
        }
        a[i] = last
        return top
    }
}

/// The words being merged, in one flat array: word `w` is the token ids
/// `ids[start[w] ..< start[w] + length[w]]`, seen `frequency[w]` times in the text.
struct WordTable {
    var ids: [Int32] = []
    var start: [Int]
    var length: [Int]
    let frequency: [Int]

    /// Every word as its bytes (ids 0...255).
    init(_ words: ByteStringTable) {
        start = [Int](repeating: 0, count: words.count)
        length = [Int](repeating: 0, count: words.count)
        frequency = words.values
        for w in 0..<words.count {
            let key = words.key(w)
            start[w] = ids.count
            length[w] = key.count
            for b in key { ids.append(Int32(b)) }
        }
    }

    var count: Int { start.count }

    /// Whether word `w` holds the pair (a, b).
    func contains(_ w: Int, _ a: Int32, _ b: Int32) -> Bool {
        let s = start[w]
        for i in s..<(s + length[w] - 1) where ids[i] == a && ids[i + 1] == b { return true }
        return false
    }

    /// minbpe's `merge`: every (a, b) in word `w`, left to right, becomes `z`.
    mutating func merge(_ w: Int, _ a: Int32, _ b: Int32, into z: Int32) {
        let s = start[w], end = s + length[w]
        var write = s, read = s
        while read < end {
            if read + 1 < end && ids[read] == a && ids[read + 1] == b {
                ids[write] = z
                read += 2
            } else {
                ids[write] = ids[read]
                read += 1
            }
            write += 1
        }
        length[w] = write - s
    }
}

/// Which words `PairIndex.count` lists under the pairs it counts.
enum Listing {
    case none
    case all
    /// Only under the pairs that contain this (new) token: no other pair can gain count.
    case containing(Int32)
}

/// The pair index: for every adjacent pair `left << 16 | right` its count over the words
/// (weighted by frequency) and the words it occurs in. A word list may hold words that no
/// longer contain the pair; the merge checks. Pairs whose count rose since the last
/// `pushRaised` are kept aside to go on the heap.
struct PairIndex {
    private var idOf = [UInt32: Int32](minimumCapacity: 1 << 16)
    private(set) var pair: [UInt32] = []
    private(set) var count: [Int] = []
    private var words: [[Int32]] = []
    private var raisedAt: [Int32] = []
    private var raised: [Int32] = []

    static func key(_ a: Int32, _ b: Int32) -> UInt32 { UInt32(a) << 16 | UInt32(b) }

    /// The pair's index, added with count 0 the first time it is seen.
    mutating func id(_ key: UInt32) -> Int {
        if let i = idOf[key] { return Int(i) }
        let i = pair.count
        idOf[key] = Int32(i)
        pair.append(key); count.append(0); words.append([]); raisedAt.append(-1)
        return i
    }

    /// minbpe's `get_stats` for one word: adds `weight` to the count of each adjacent pair of
    /// word `w` (a negative weight takes the word out), listing `w` under the pairs `listing`
    /// names, whose counts were raised at merge `step`.
    mutating func count(_ w: Int, in table: WordTable, weight: Int, listing: Listing, step: Int32) {
        let s = table.start[w]
        guard table.length[w] > 1 else { return }
        for i in s..<(s + table.length[w] - 1) {
            let x = table.ids[i], y = table.ids[i + 1]
            let p = id(PairIndex.key(x, y))
            count[p] += weight
            switch listing {
            case .none: continue
            case .all: break
            case .containing(let z): if x != z && y != z { continue }
            }
            if words[p].last != Int32(w) { words[p].append(Int32(w)) }
            if raisedAt[p] != step { raisedAt[p] = step; raised.append(Int32(p)) }
        }
    }

    /// The words listed under pair `p`, emptying its list.
    mutating func takeWords(_ p: Int) -> [Int32] {
        defer { words[p] = [] }
        return words[p]
    }

    /// Pushes the raised pairs that still occur with their current counts.
    mutating func pushRaised(to heap: inout PairHeap) {
        for p in raised where count[Int(p)] > 0 { heap.push(PairHeap.key(count: count[Int(p)], pair: pair[Int(p)])) }
        raised.removeAll(keepingCapacity: true)
    }
}

/// Runs merges until there are `target` tokens (or no pair is left): count the pairs, merge the
/// most frequent one in every word that holds it, recount those words, repeat. Returns the bytes
/// of each token and the merges in order.
func mergeWords(_ words: ByteStringTable, target: Int) -> ([[UInt8]], [Merge]) {
    var table = WordTable(words)
    var index = PairIndex()
    var heap = PairHeap()
    for w in 0..<table.count { index.count(w, in: table, weight: table.frequency[w], listing: .all, step: 0) }
    heap.a.reserveCapacity(index.pair.count * 2)
    index.pushRaised(to: &heap)

    var vocab: [[UInt8]] = (0..<256).map { [UInt8($0)] }
    var idOf = [[UInt8]: Int32](minimumCapacity: target)
    for b in 0..<256 { idOf[[UInt8(b)]] = Int32(b) }
    var merges = [Merge]()
    var visited = [Int32](repeating: -1, count: table.count)
    var step: Int32 = 0

    while vocab.count < target, let top = heap.pop() {
        // A heap entry is stale when the pair's count changed since it was pushed.
        let key = ~UInt32(truncatingIfNeeded: top)
        let p = index.id(key)
        let current = index.count[p]
        if current != Int(top >> 32) {
            if current > 0 { heap.push(PairHeap.key(count: current, pair: key)) }
            continue
        }
        let a = Int32(key >> 16), b = Int32(key & 0xFFFF)
        let bytes = vocab[Int(a)] + vocab[Int(b)]
        let z: Int32
        if let existing = idOf[bytes] { z = existing } else {
            z = Int32(vocab.count)
            vocab.append(bytes)
            idOf[bytes] = z
        }
        merges.append(Merge(left: Int(a), right: Int(b), result: Int(z)))
        step += 1

        for w32 in index.takeWords(p) {
            let w = Int(w32)
            if visited[w] == step || !table.contains(w, a, b) { continue }
            visited[w] = step
            let f = table.frequency[w]
            index.count(w, in: table, weight: -f, listing: .none, step: step)
            table.merge(w, a, b, into: z)
            index.count(w, in: table, weight: f, listing: .containing(z), step: step)
        }
        index.pushRaised(to: &heap)
    }
    return (vocab, merges)
}
