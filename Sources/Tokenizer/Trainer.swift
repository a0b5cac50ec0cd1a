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

/// Runs merges until there are `target` tokens (or no pair is left). Returns the bytes of each
/// token and the merges in order.
func mergeWords(_ words: ByteStringTable, target: Int) -> ([[UInt8]], [Merge]) {
    let wordCount = words.count
    var sym = [Int32]()
    var wStart = [Int](repeating: 0, count: wordCount)
    var wLen = [Int](repeating: 0, count: wordCount)
    let wFreq = words.values
    for w in 0..<wordCount {
        let key = words.key(w)
        wStart[w] = sym.count
        wLen[w] = key.count
        for b in key { sym.append(Int32(b)) }
    }

    var pairId = [UInt32: Int32](minimumCapacity: 1 << 16)
    var pairCount = [Int]()
    var pairWords = [[Int32]]()
    var pushedMark = [Int32]()
    var pairKeys = [UInt32]()
    for w in 0..<wordCount where wLen[w] > 1 {
        let s = wStart[w]
        for k in s..<(s + wLen[w] - 1) {
            let key = UInt32(sym[k]) << 16 | UInt32(sym[k + 1])
            var pid = pairId[key] ?? -1
            if pid < 0 {
                pid = Int32(pairCount.count)
                pairId[key] = pid
                pairCount.append(0); pairWords.append([]); pushedMark.append(-1); pairKeys.append(key)
            }
            pairCount[Int(pid)] += wFreq[w]
            if pairWords[Int(pid)].last != Int32(w) { pairWords[Int(pid)].append(Int32(w)) }
        }
    }
    var heap = PairHeap()
    heap.a.reserveCapacity(pairCount.count * 2)
    for (key, pid) in pairId { heap.push(PairHeap.key(count: pairCount[Int(pid)], pair: key)) }

    var vocab: [[UInt8]] = (0..<256).map { [UInt8($0)] }
    var idOf = [[UInt8]: Int32](minimumCapacity: target)
    for b in 0..<256 { idOf[[UInt8(b)]] = Int32(b) }
    var merges = [Merge]()
    var visited = [Int32](repeating: -1, count: wordCount)
    var touched = [Int32]()
    var step: Int32 = 0

    while vocab.count < target, let top = heap.pop() {
        let count = Int(top >> 32)
        let key = ~UInt32(truncatingIfNeeded: top)
        let pid = Int(pairId[key]!)
        let current = pairCount[pid]
        if current != count {
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

        let list = pairWords[pid]
        pairWords[pid] = []
        for w32 in list {
            let w = Int(w32)
            if visited[w] == step { continue }
            visited[w] = step
            let s = wStart[w], len = wLen[w], f = wFreq[w]
            var found = false
            for k in s..<(s + len - 1) where sym[k] == a && sym[k + 1] == b { found = true; break }
            if !found { continue }
            for k in s..<(s + len - 1) {
                pairCount[Int(pairId[UInt32(sym[k]) << 16 | UInt32(sym[k + 1])]!)] -= f
            }
            var wr = s, rd = s
            let end = s + len
            while rd < end {
                if rd + 1 < end && sym[rd] == a && sym[rd + 1] == b { sym[wr] = z; rd += 2 }
                else { sym[wr] = sym[rd]; rd += 1 }
                wr += 1
            }
            let newLen = wr - s
            wLen[w] = newLen
            if newLen < 2 { continue }
            for k in s..<(s + newLen - 1) {
                let x = sym[k], y = sym[k + 1]
                let pk = UInt32(x) << 16 | UInt32(y)
                var q = pairId[pk] ?? -1
                if q < 0 {
                    q = Int32(pairCount.count)
                    pairId[pk] = q
                    pairCount.append(0); pairWords.append([]); pushedMark.append(-1); pairKeys.append(pk)
                }
                let qi = Int(q)
                pairCount[qi] += f
                if x == z || y == z {
                    if pairWords[qi].last != w32 { pairWords[qi].append(w32) }
                    if pushedMark[qi] != step { pushedMark[qi] = step; touched.append(q) }
                }
            }
        }
        for q in touched where pairCount[Int(q)] > 0 {
            heap.push(PairHeap.key(count: pairCount[Int(q)], pair: pairKeys[Int(q)]))
        }
        touched.removeAll(keepingCapacity: true)
    }
    return (vocab, merges)
}
