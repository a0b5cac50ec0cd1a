// libFuzzer target: the pre-tokenizer and encoder on any bytes, with the property
// decode(encode(x)) == x, for the pydocs V=512 tokenizer and one or two threads.
import Foundation
import FuzzSupport
import Tokenizer

let tokenizer: BPETokenizer = {
    let path = ProcessInfo.processInfo.environment["ISOFLOP_FUZZ_TOKENIZER"] ?? "data/tokenizers/pydocs-v512/tokenizer.json"
    do { return try BPETokenizer.load(from: path) } catch { fatalError("fuzz-roundtrip needs a tokenizer: \(error)") }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRoundTrip(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let one = tokenizer.encode(bytes, threads: 1)
    guard (try? tokenizer.decode(one)) == bytes else { fatalError("decode(encode(x)) != x for \(bytes)") }
    guard tokenizer.encode(bytes, threads: 2) == one else { fatalError("two threads encode \(bytes) differently") }
    let pieces = preTokenize(bytes)
    guard Array(pieces.joined()) == bytes else { fatalError("the pre-tokenizer's pieces do not concatenate to \(bytes)") }
    return 0
}

@_cdecl("fuzz_roundtrip_main")
public func fuzzerEntry(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 { runFuzzer(argc, argv, fuzzRoundTrip) }
