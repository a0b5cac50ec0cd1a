// swift-tools-version:6.0
// isoflop: a miniature transformer training lab for Chinchilla-style IsoFLOP sweeps.
import PackageDescription

// The kernels (Tensor, Autograd) loop over buffers whose sizes the model planned from a
// validated shape; their release builds drop bounds and overflow checks. Everything that reads
// input from files, flags or the network keeps Swift's checks (-O).
let kernels: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release)),
]
let checked: [SwiftSetting] = [
    .unsafeFlags(["-O", "-wmo"], .when(configuration: .release)),
]

let package = Package(
    name: "isoflop",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "isoflop", targets: ["isoflop"]),
        // The engine (tensors, the tape, the GPT, its training loop), the tokenizer, the fitters
        // and the study above them, for use from other Swift packages.
        .library(name: "IsoflopEngine", targets: ["Tensor", "Autograd", "Model", "Training"]),
        .library(name: "IsoflopTokenizer", targets: ["Tokenizer"]),
        .library(name: "IsoflopFit", targets: ["Fit"]),
        .library(name: "IsoflopStudy", targets: ["Study"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CLibPQ", path: "Sources/CLibPQ", pkgConfig: "libpq",
                       providers: [.apt(["libpq-dev"])]),
        // Each target declares exactly what it imports; the edges run one way, in this order.
        // AVX2 twins of the elementwise kernels, chosen at run time (the binary runs on any x86-64).
        .target(name: "CKernels", path: "Sources/CKernels"),
        .target(name: "Tensor", dependencies: ["CBLAS", "CKernels"], swiftSettings: kernels),
        .target(name: "Autograd", dependencies: ["Tensor"], swiftSettings: kernels),
        .target(name: "Model", dependencies: ["Autograd", "Tensor"], swiftSettings: checked),
        .target(name: "Tokenizer", dependencies: ["Tensor"], swiftSettings: checked),
        .target(name: "Corpus", dependencies: ["Tensor", "Tokenizer"], swiftSettings: checked),
        .target(name: "Training", dependencies: ["Model", "Tensor", "Tokenizer"], swiftSettings: checked),
        .target(name: "Sweep", dependencies: ["Tensor", "Model", "Tokenizer", "Training", "CSQLite", "CLibPQ"], swiftSettings: checked),
        .target(name: "Fit", dependencies: ["Tensor"], swiftSettings: checked),
        .target(name: "Report", dependencies: ["Tensor", "Sweep", "Fit"], swiftSettings: checked),
        // The Kaplan-to-Chinchilla ladder: rung configs, run sharing between rungs, rung results.
        .target(name: "Ladder", dependencies: ["Sweep", "Fit", "Training", "Model", "Tensor"], swiftSettings: checked),
        // What a study does, over all of the above: plan once into a store, drive local workers
        // or write a Slurm job, adaptive grids, the LR pilot, the ladder's rungs, results.
        .target(name: "Study", dependencies: ["Sweep", "Fit", "Report", "Ladder", "Corpus", "Tokenizer", "Training", "Model", "Tensor"],
                swiftSettings: checked),
        // Test support: a throwaway PostgreSQL server for the store tests of several test targets,
        // and malloc and its kin counted per thread for the allocation test of the step loop.
        .target(name: "PostgresFixture", dependencies: ["Sweep"], path: "Tests/PostgresFixture"),
        .target(name: "AllocationCounter", path: "Tests/AllocationCounter"),
        .executableTarget(
            name: "isoflop",
            dependencies: [
                "Tensor", "Model", "Tokenizer", "Corpus", "Training", "Sweep", "Fit", "Report", "Ladder", "Study",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: checked),
        .testTarget(name: "TensorTests", dependencies: ["Tensor"]),
        .testTarget(name: "AutogradTests", dependencies: ["Autograd", "Tensor"]),
        .testTarget(name: "ModelTests", dependencies: ["Model", "Tensor"]),
        .testTarget(name: "TokenizerTests", dependencies: ["Tokenizer", "Corpus", "Tensor"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Model", "Tensor", "Tokenizer", "AllocationCounter"]),
        .testTarget(name: "SweepTests", dependencies: ["Sweep", "Training", "Model", "Tensor", "PostgresFixture"]),
        .testTarget(name: "FitTests", dependencies: ["Fit", "Tensor"]),
        .testTarget(name: "ReportTests", dependencies: ["Report", "Fit", "Sweep", "Tensor"]),
        .testTarget(name: "LadderTests", dependencies: ["Ladder", "Sweep", "Training", "Model", "Fit"]),
        .testTarget(name: "StudyTests", dependencies: ["Study", "Sweep", "Fit", "Report", "Ladder", "Training", "Model", "Tensor"]),
        .testTarget(name: "CLITests", dependencies: ["isoflop", "Sweep", "Fit", "Ladder", "Tensor", "PostgresFixture"]),
    ],
    swiftLanguageModes: [.v5]
)

// Fuzz targets (libFuzzer), only when ISOFLOP_FUZZ is set, so that ordinary builds and tests
// never need the fuzzer runtime: `scripts/fuzz.sh TARGET SECONDS` builds and runs one.
if Context.environment["ISOFLOP_FUZZ"] != nil {
    let fuzzTargets: [(String, [Target.Dependency])] = [
        ("fuzz-config", ["Sweep", "Training"]),
        ("fuzz-tokenizer-json", ["Tokenizer"]),
        ("fuzz-safetensors", ["Model"]),
        ("fuzz-sidecar", ["Corpus"]),
        ("fuzz-fit-csv", ["Fit"]),
        ("fuzz-roundtrip", ["Tokenizer"]),
    ]
    package.targets.append(.target(name: "FuzzSupport", path: "Fuzz/FuzzSupport"))
    for (name, dependencies) in fuzzTargets {
        package.targets.append(.executableTarget(
            name: name, dependencies: dependencies + ["FuzzSupport"], path: "Fuzz/\(name)",
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
        package.products.append(.executable(name: name, targets: [name]))
    }
}
