// libFuzzer target: any bytes as a CSV of runs for `isoflop fit`.
import Fit
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFitCSV(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    _ = try? parseRunsCSV(String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self), source: "fuzz")
    return 0
}

@_cdecl("fuzz_fit_csv_main")
public func fuzzerEntry(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 { runFuzzer(argc, argv, fuzzFitCSV) }
