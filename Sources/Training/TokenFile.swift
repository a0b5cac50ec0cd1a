// Token data: a memory-mapped uint16 file, seeded random training windows, and a fixed
// evaluation sample.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only little-endian uint16 token file, memory-mapped.
public final class TokenFile {
    public let path: String
    /// Number of tokens (bytes / 2).
    public let count: Int
    private let base: UnsafeMutableRawPointer
    private let bytes: Int

    public init(path: String) throws {
        self.path = path
        // Checked before opening: opening a FIFO for reading waits for a writer, forever.
        var pre = stat()
        if stat(path, &pre) == 0, (pre.st_mode & S_IFMT) != S_IFREG {
            throw TokenFileError.unreadable(path: path, reason: "not a regular file")
        }
        let fd = open(path, O_RDONLY | O_NONBLOCK)
        guard fd >= 0 else {
            if errno == ENOENT { throw TokenFileError.missing(path: path) }
            throw TokenFileError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw TokenFileError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw TokenFileError.unreadable(path: path, reason: "not a regular file") }
        let size = Int(st.st_size)
        guard size % 2 == 0 else { throw TokenFileError.oddSize(path: path, bytes: size) }
        guard size > 0 else { throw TokenFileError.empty(path: path) }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw TokenFileError.unreadable(path: path, reason: "mmap: " + String(cString: strerror(errno)))
        }
        base = p
        bytes = size
        count = size / 2
    }

    deinit { munmap(base, bytes) }

    /// Token `i` (0-based).
    @inline(__always)
    public subscript(i: Int) -> UInt16 {
        UInt16(littleEndian: base.load(fromByteOffset: 2 * i, as: UInt16.self))
    }

    /// The largest token id in the file (one pass), to check it fits a vocabulary.
    public func maxToken() -> Int {
        let p = UnsafeRawPointer(base).assumingMemoryBound(to: UInt16.self)
        var m: UInt16 = 0
        for i in 0..<count { m = max(m, UInt16(littleEndian: p[i])) }
        return Int(m)
    }

    /// Throws unless the file holds a window of `context + 1` tokens and every id is below
    /// `vocabSize`.
    public func check(context: Int, vocabSize: Int) throws {
        guard count >= context + 1 else { throw TokenFileError.contextTooLong(path: path, tokens: count, context: context) }
        let m = maxToken()
        guard m < vocabSize else { throw TokenFileError.tokenOutOfRange(path: path, token: m, vocabSize: vocabSize) }
    }

    /// Writes the window starting at `start` as inputs `[start, start+T)` and targets
    /// `[start+1, start+T]`, as Int32.
    @inline(__always)
    func copyWindow(start: Int, context T: Int, inputs: UnsafeMutablePointer<Int32>, targets: UnsafeMutablePointer<Int32>) {
        var previous = Int32(self[start])
        for t in 0..<T {
            let next = Int32(self[start + t + 1])
            inputs[t] = previous
            targets[t] = next
            previous = next
        }
    }
}

/// Fills a batch with random windows of a token file. The generator state is all there is
/// to save for a bit-exact resume.
public struct BatchSampler: Sendable {
    public var rng: Xoshiro256
    public init(seed: UInt64) { rng = Xoshiro256(seed: seed) }

    /// Fills `inputs` and `targets` (each `batch × context`) with `batch` windows whose
    /// starts are uniform over the file.
    public mutating func fill(from file: TokenFile, batch: Int, context: Int,
                              inputs: UnsafeMutablePointer<Int32>, targets: UnsafeMutablePointer<Int32>) {
        let starts = file.count - context
        for b in 0..<batch {
            let start = rng.below(starts)
            file.copyWindow(start: start, context: context, inputs: inputs + b * context, targets: targets + b * context)
        }
    }
}

/// The held-out sample: `windows` windows evenly spaced over the file, the same every time.
public struct EvaluationSample: Sendable {
    public let starts: [Int]

    public init(file: TokenFile, context: Int, windows: Int) {
        let last = file.count - context - 1
        let n = max(1, windows)
        starts = (0..<n).map { n == 1 ? 0 : $0 * last / (n - 1) }
    }

    /// Fills batch `index` (windows `index × batch ..< (index+1) × batch`).
    func fill(batch index: Int, from file: TokenFile, batch: Int, context: Int,
              inputs: UnsafeMutablePointer<Int32>, targets: UnsafeMutablePointer<Int32>) {
        for b in 0..<batch {
            file.copyWindow(start: starts[index * batch + b], context: context,
                            inputs: inputs + b * context, targets: targets + b * context)
        }
    }
}
