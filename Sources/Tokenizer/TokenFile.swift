// Token files: little-endian uint16 ids, written whole or streamed by the encoder, and read
// memory-mapped (training draws its windows straight from the mapping).
import Foundation
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
    @usableFromInline let base: UnsafeMutableRawPointer
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
    @inlinable
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

    /// All tokens of the file, copied out.
    public func tokens() -> [UInt16] { (0..<count).map { self[$0] } }

    /// All tokens of the file at `path`.
    public static func read(_ path: String) throws -> [UInt16] { try TokenFile(path: path).tokens() }

    public static func write(_ tokens: [UInt16], to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path) else {
            throw TokenizerError.io(path: path, reason: "cannot create")
        }
        defer { try? h.close() }
        try writeLittleEndian(tokens, to: h)
    }
}

/// Errors raised while opening or sampling a token file.
public enum TokenFileError: Error, CustomStringConvertible, Equatable {
    case missing(path: String)
    case unreadable(path: String, reason: String)
    case oddSize(path: String, bytes: Int)
    case empty(path: String)
    /// Windows need `context + 1` tokens (inputs plus the shifted targets).
    case contextTooLong(path: String, tokens: Int, context: Int)
    case tokenOutOfRange(path: String, token: Int, vocabSize: Int)

    public var description: String {
        switch self {
        case .missing(let p): return "token file \(p) does not exist"
        case .unreadable(let p, let r): return "token file \(p) cannot be read: \(r)"
        case .oddSize(let p, let b): return "token file \(p) has an odd size (\(b) bytes); uint16 tokens need an even size"
        case .empty(let p): return "token file \(p) is empty"
        case .contextTooLong(let p, let n, let t):
            return "context \(t) is too long for token file \(p): it holds \(n) tokens, a window needs \(t + 1)"
        case .tokenOutOfRange(let p, let tok, let v):
            return "token file \(p) holds token id \(tok), outside the vocabulary of \(v)"
        }
    }
}
