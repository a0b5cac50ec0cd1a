// GPT-2 style pre-tokenizer on raw bytes, hand-written instead of a regex engine.
//
// It reproduces the GPT-2 pattern
//     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// on UTF-8 text: ASCII is classified by a table; a valid multi-byte UTF-8 scalar is classified by
// its Unicode general category (L* letter, N* number) or White_Space property, exactly as the
// regex does. The one documented difference: a byte that is not part of valid UTF-8 (which a
// Python `str` can never hold) counts as "other" punctuation, so any byte string splits.
import Foundation

/// The four classes the GPT-2 pattern distinguishes.
@usableFromInline enum ByteClass: UInt8 {
    case other = 0, letter = 1, digit = 2, space = 3
}

/// Class of each ASCII byte, in raw memory: threads read it without reference counting, which
/// on a shared array's buffer would make parallel pre-tokenizing contend for one cache line.
@usableFromInline let asciiClass: UnsafePointer<ByteClass> = {
    let t = UnsafeMutablePointer<ByteClass>.allocate(capacity: 128)
    for b in 0..<128 {
        switch b {
        case 0x41...0x5A, 0x61...0x7A: t[b] = .letter
        case 0x30...0x39: t[b] = .digit
        case 0x09...0x0D, 0x20: t[b] = .space
        default: t[b] = .other
        }
    }
    return UnsafePointer(t)
}()

/// Class and length of the character starting at `p[i]` (one byte unless valid multi-byte UTF-8).
@inline(__always) @usableFromInline
func characterClass(_ p: UnsafePointer<UInt8>, _ i: Int, _ n: Int) -> (ByteClass, Int) {
    let b = p[i]
    if b < 0x80 { return (asciiClass[Int(b)], 1) }
    return nonASCIIClass(p, i, n)
}

@usableFromInline func nonASCIIClass(_ p: UnsafePointer<UInt8>, _ i: Int, _ n: Int) -> (ByteClass, Int) {
    let b = UInt32(p[i])
    var len = 0
    var v: UInt32 = 0
    var minimum: UInt32 = 0
    if b & 0xE0 == 0xC0 { len = 2; v = b & 0x1F; minimum = 0x80 }
    else if b & 0xF0 == 0xE0 { len = 3; v = b & 0x0F; minimum = 0x800 }
    else if b & 0xF8 == 0xF0 { len = 4; v = b & 0x07; minimum = 0x10000 }
    else { return (.other, 1) }
    if i + len > n { return (.other, 1) }
    for k in 1..<len {
        let c = UInt32(p[i + k])
        if c & 0xC0 != 0x80 { return (.other, 1) }
        v = v << 6 | (c & 0x3F)
    }
    guard v >= minimum, let scalar = Unicode.Scalar(v) else { return (.other, 1) }
    let props = scalar.properties
    if props.isWhitespace { return (.space, len) }
    switch props.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
        return (.letter, len)
    case .decimalNumber, .letterNumber, .otherNumber:
        return (.digit, len)
    default:
        return (.other, len)
    }
}

/// Walks the pre-tokens of a byte buffer: `while let r = it.next() { ... }` gives half-open
/// byte ranges `r.start..<r.end` that tile the buffer.
public struct PreTokenizer {
    @usableFromInline let p: UnsafePointer<UInt8>
    @usableFromInline let n: Int
    @usableFromInline var i: Int

    public init(_ p: UnsafePointer<UInt8>, count: Int) {
        self.p = p; self.n = count; self.i = 0
    }

    @inlinable @inline(__always)
    public mutating func next() -> (start: Int, end: Int)? {
        let s = i
        if s >= n { return nil }
        let b = p[s]
        if b == 0x27 && s + 1 < n {  // contractions, lowercase only as in GPT-2
            let c = p[s + 1]
            if c == 0x73 || c == 0x74 || c == 0x6D || c == 0x64 { i = s + 2; return (s, i) }  // s t m d
            if s + 2 < n {
                let d = p[s + 2]
                if (c == 0x72 && d == 0x65) || (c == 0x76 && d == 0x65) || (c == 0x6C && d == 0x6C) {  // re ve ll
                    i = s + 3; return (s, i)
                }
            }
        }
        var j = s
        if b == 0x20 && s + 1 < n {
            let (c, _) = characterClass(p, s + 1, n)
            if c != .space { j = s + 1 }
        }
        let (c, l) = characterClass(p, j, n)
        if c != .space {
            var k = j + l
            while k < n {
                let (c2, l2) = characterClass(p, k, n)
                if c2 != c { break }
                k += l2
            }
            i = k
            return (s, k)
        }
        // A whitespace run. Followed by a non-space, it gives up its last character, which then
        // either prefixes the next word (a plain space) or stands alone (`\s+(?!\S)` then `\s+`).
        var k = s + l
        var last = s
        while k < n {
            let (c2, l2) = characterClass(p, k, n)
            if c2 != .space { break }
            last = k
            k += l2
        }
        if k < n && last > s { i = last; return (s, last) }
        i = k
        return (s, k)
    }
}

/// Splits `p[0..<n]` at literal occurrences of the special tokens' bytes (leftmost first; the
/// earlier-listed token on a tie): `ordinary` gets each range between them, `special` the index
/// of each token found. Special tokens are matched before pre-tokenization, as in Hugging Face.
@inline(__always)
func splitAtSpecials(_ p: UnsafePointer<UInt8>, count n: Int, specials: [[UInt8]],
                     ordinary: (Range<Int>) -> Void, special: (Int) -> Void) {
    var s = 0
    while s < n {
        var at = n, which = -1
        for (k, sb) in specials.enumerated() {
            if let q = find(sb, in: p, from: s, to: min(n, at + sb.count - 1)), q < at { at = q; which = k }
        }
        if at > s { ordinary(s..<at) }
        if which < 0 { break }
        special(which)
        s = at + specials[which].count
    }
}

/// The first occurrence of `needle` starting in `from..<to - needle.count + 1`, or nil.
func find(_ needle: [UInt8], in p: UnsafePointer<UInt8>, from: Int, to: Int) -> Int? {
    let m = needle.count
    guard m > 0 else { return nil }
    var q = from
    while q + m <= to {
        guard let hit = memchr(p + q, Int32(needle[0]), to - q - m + 1) else { return nil }
        let h = p.distance(to: hit.assumingMemoryBound(to: UInt8.self))
        if needle.withUnsafeBufferPointer({ memcmp(p + h, $0.baseAddress!, m) }) == 0 { return h }
        q = h + 1
    }
    return nil
}

/// The pre-tokens of `bytes` as separate arrays (convenient for tests and small inputs).
public func preTokenize(_ bytes: [UInt8]) -> [[UInt8]] {
    bytes.withUnsafeBufferPointer { buf -> [[UInt8]] in
        guard let base = buf.baseAddress else { return [] }
        var it = PreTokenizer(base, count: buf.count)
        var out = [[UInt8]]()
        while let r = it.next() { out.append(Array(buf[r.start..<r.end])) }
        return out
    }
}

/// A cut point for splitting a buffer into pieces that pre-tokenize (and so encode) exactly as
/// the whole does: the first position `q >= from` holding an ASCII non-space byte, preceded by a
/// newline that is itself preceded by an ASCII non-space byte. That newline is then a whole
/// pre-token on either side of the cut (a longer whitespace run would split differently when it
/// ends the piece), and no pre-token spans the cut.
public func safeCut(_ p: UnsafePointer<UInt8>, count n: Int, from: Int) -> Int? {
    var q = max(from, 2)
    while q < n {
        if isSafeCut(p, q) { return q }
        q += 1
    }
    return nil
}

@inline(__always) func isSafeCut(_ p: UnsafePointer<UInt8>, _ q: Int) -> Bool {
    guard p[q - 1] == 0x0A else { return false }
    let a = p[q - 2], b = p[q]
    return a < 0x80 && b < 0x80 && asciiClass[Int(a)] != .space && asciiClass[Int(b)] != .space
}

/// The last safe cut in `p[0..<n]` (see `safeCut`), or nil.
func lastSafeCut(_ p: UnsafePointer<UInt8>, count n: Int) -> Int? {
    var q = n - 1
    while q >= 2 {
        if isSafeCut(p, q) { return q }
        q -= 1
    }
    return nil
}

/// Splits `0..<n` into at most `parts` pieces at safe cuts, roughly equal in bytes.
func safePieces(_ p: UnsafePointer<UInt8>, count n: Int, parts: Int) -> [Range<Int>] {
    var bounds = [0]
    if parts > 1 {
        for k in 1..<parts {
            let target = n * k / parts
            if target <= bounds.last! { continue }
            guard let q = safeCut(p, count: n, from: target) else { break }
            if q > bounds.last! { bounds.append(q) }
        }
    }
    bounds.append(n)
    var out = [Range<Int>]()
    for k in 0..<(bounds.count - 1) where bounds[k] < bounds[k + 1] { out.append(bounds[k]..<bounds[k + 1]) }
    return out
}
