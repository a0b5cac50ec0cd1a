// libFuzzer target: any bytes as a TOML and as a JSON sweep config and run config, decoded,
// checked and planned, and a TOML sweep config's rule rewritten as `tune --write` does. Errors
// are expected; a crash, hang or leak is a finding, and so is a rewrite that changes anything
// but the rule.
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
            if !json { checkRuleRewrite(text, sweep) }
        }
        if let run = try? (json ? ConfigDecoder.decode(TrainConfig.self, fromJSON: text, file: "fuzz")
                                : ConfigDecoder.decode(TrainConfig.self, fromTOML: text, file: "fuzz")) {
            _ = try? run.validate()
        }
    }
    return 0
}

/// `tune --write`'s rewrite of a config that decodes: where the plain rewrite succeeds, the
/// checked one (nothing but the rule changed) must too.
func checkRuleRewrite(_ text: String, _ sweep: SweepConfig) {
    _ = LRRuleWriter.lrTable(in: text)
    guard (try? LRRuleWriter.write(intercept: -6.25, width: -0.5, steps: 0.375, into: text, file: "fuzz")) != nil else { return }
    do { _ = try LRRuleWriter.writeChecked(intercept: -6.25, width: -0.5, steps: 0.375, into: text, file: "fuzz") } catch {
        fatalError("\(error) on:\n\(text)")
    }
}

@_cdecl("fuzz_config_main")
public func fuzzerEntry(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 { runFuzzer(argc, argv, fuzzConfig) }
