// What every fuzz target shares: handing its entry point over to libFuzzer's driver.

/// Runs libFuzzer on `body` with the process's arguments. SwiftPM links an executable's entry
/// point as `<module>_main`; each target defines that one line and calls this.
public func runFuzzer(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                      _ body: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32) -> Int32 {
    var count = argc, values = argv
    return LLVMFuzzerRunDriver(&count, &values, body)
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ body: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32) -> Int32
