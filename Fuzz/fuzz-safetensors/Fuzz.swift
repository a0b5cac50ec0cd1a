// libFuzzer target: any bytes as a safetensors file (header length, JSON header, data).
import Foundation
import FuzzSupport
import Model

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    _ = try? Safetensors.parse(Data(bytes: data, count: size), source: "fuzz")
    return 0
}

@_cdecl("fuzz_safetensors_main")
public func fuzzerEntry(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 { runFuzzer(argc, argv, fuzzSafetensors) }
