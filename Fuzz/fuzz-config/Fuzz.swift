// libFuzzer target: any bytes as a TOML and as a JSON sweep config and run config, decoded,
// checked and planned. Errors are expected; a crash, hang or leak is a finding.
import Sweep
import FuzzSupport
import Training

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    for json in [false, true] {
        if let sweep = try? (json ? ConfigDecoder.decode(SweepConfig.self, fromJSON: text, file: "fuzz")
                                  : ConfigDecoder.decode(SweepConfig.self, fromTOML: text, file: "fuzz")),
           (try? sweep.validate(file: "fuzz")) != nil {
            _ = try? Planner.plan(sweep)
        }
        if let run = try? (json ? ConfigDecoder.decode(TrainConfig.self, fromJSON: text, file: "fuzz")
                                : ConfigDecoder.decode(TrainConfig.self, fromTOML: text, file: "fuzz")) {
            _ = try? run.validate()
        }
    }
    return 0
}

@_cdecl("fuzz_config_main")
public func fuzzerEntry(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 { runFuzzer(argc, argv, fuzzConfig) }
