// libFuzzer target: any bytes as tokenizer.json; a tokenizer that loads must round-trip a
// sample text (every byte has a token, so decode(encode(x)) == x).
import Tokenizer
import FuzzSupport

let sample = Array("def f(x):\n    return x ** 2  # héllo \u{1F600}\0\u{7F}".utf8)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizerJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard let tokenizer = try? BPETokenizer.parse(Array(UnsafeBufferPointer(start: data, count: size))) else { return 0 }
    let ids = tokenizer.encode(sample)
    guard (try? tokenizer.decode(ids)) == sample else { fatalError("a loaded tokenizer does not round-trip the sample") }
    return 0
}

@_cdecl("fuzz_tokenizer_json_main")
public func fuzzerEntry(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 { runFuzzer(argc, argv, fuzzTokenizerJSON) }
