// libFuzzer target: any bytes as a token file's JSON sidecar.
import Foundation
import FuzzSupport
import Corpus
import Tokenizer

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSidecar(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    _ = try? TokenFileInfo.parse(Data(bytes: data, count: size), sidecar: "fuzz")
    return 0
}

@_cdecl("fuzz_sidecar_main")
public func fuzzerEntry(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 { runFuzzer(argc, argv, fuzzSidecar) }
