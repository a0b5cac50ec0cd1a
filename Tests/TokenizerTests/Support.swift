// Shared helpers for the tokenizer tests: sample text from a seed, and slow reference
// implementations (trainer and encoder by full recount) to check the fast ones against.
import Foundation
import Tensor
import Tokenizer

/// Pseudo-English with code-like lines, indentation, digits and a little UTF-8.
func sampleText(bytes: Int, seed: UInt64) -> [UInt8] {
    var g = SplitMix64(seed: seed)
    let words = ["the", "of", "and", "to", "in", "is", "that", "for", "it", "with", "as", "was", "on",
                 "function", "return", "value", "list", "dict", "import", "class", "self", "None",
                 "don't", "it's", "we'll", "naïve", "café", "日本", "x", "y", "42", "3.14", "(", ")", "==", "--"]
    // A lexicon of made-up words, drawn with a skewed (roughly Zipf) frequency.
    let letters = Array("etaoinshrdlcumwfgypbvkjxqz".utf8)
    var lexicon = words.map { Array($0.utf8) }
    for _ in 0..<3000 {
        let n = 2 + Int(g.next() % 9)
        lexicon.append((0..<n).map { _ in letters[Int(min(g.next() % 26, g.next() % 26))] })
    }
    var out = [UInt8]()
    while out.count < bytes {
        let u = Double(g.next() % 1_000_000) / 1_000_000
        let w = lexicon[min(lexicon.count - 1, Int(pow(Double(lexicon.count), u * u)))]
        out += w
        switch g.next() % 12 {
        case 0: out += [0x0A]
        case 1: out += [0x0A, 0x20, 0x20, 0x20, 0x20]
        case 2: out += [0x2E, 0x0A, 0x0A]
        default: out += [0x20]
        }
    }
    return Array(out.prefix(bytes))
}

/// Trainer by full recount after every merge, with the documented tie rule and the reuse of an
/// existing id when a merge yields bytes already in the vocabulary.
func referenceMerges(_ text: [UInt8], vocabSize: Int) -> [Merge] {
    var counts = [[UInt8]: Int]()
    for w in preTokenize(text) { counts[w, default: 0] += 1 }
    var words = counts.map { (w, c) in (w.map(Int.init), c) }
    var vocab: [[UInt8]] = (0..<256).map { [UInt8($0)] }
    var merges = [Merge]()
    while vocab.count < vocabSize - 1 {
        var pairs = [[Int]: Int]()
        for (w, c) in words where w.count > 1 { for k in 0..<(w.count - 1) { pairs[[w[k], w[k + 1]], default: 0] += c } }
        var found: ([Int], Int)? = nil
        for (k, c) in pairs where found == nil || c > found!.1 || (c == found!.1 && k.lexicographicallyPrecedes(found!.0)) {
            found = (k, c)
        }
        guard let best = found.map({ (key: $0.0, value: $0.1) }) else { break }
        let bytes = vocab[best.key[0]] + vocab[best.key[1]]
        var z = vocab.firstIndex(of: bytes) ?? -1
        if z < 0 { z = vocab.count; vocab.append(bytes) }
        merges.append(Merge(left: best.key[0], right: best.key[1], result: z))
        words = words.map { (w, c) in (mergePair(w, best.key[0], best.key[1], z), c) }
    }
    return merges
}

func mergePair(_ w: [Int], _ a: Int, _ b: Int, _ z: Int) -> [Int] {
    var out = [Int]()
    var k = 0
    while k < w.count {
        if k + 1 < w.count && w[k] == a && w[k + 1] == b { out.append(z); k += 2 } else { out.append(w[k]); k += 1 }
    }
    return out
}

/// Encoder by the textbook loop: per pre-token, merge the lowest-ranked pair until none is left.
func referenceEncode(_ tok: BPETokenizer, _ text: [UInt8]) -> [Int] {
    var rank = [[Int]: Int]()
    for (r, m) in tok.merges.enumerated() where rank[[m.left, m.right]] == nil { rank[[m.left, m.right]] = r }
    var out = [Int]()
    for word in preTokenize(text) {
        var w = word.map(Int.init)
        while w.count > 1 {
            var best: (Int, Int)? = nil
            for k in 0..<(w.count - 1) { if let r = rank[[w[k], w[k + 1]]], best == nil || r < best!.0 { best = (r, k) } }
            guard let (r, _) = best else { break }
            let m = tok.merges[r]
            w = mergePair(w, m.left, m.right, m.result)
        }
        out += w
    }
    return out
}

func temporaryDirectory() -> String {
    let dir = NSTemporaryDirectory() + "tokenizer-tests-" + UUID().uuidString
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}
