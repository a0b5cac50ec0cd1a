// swift-tools-version:6.0
// isoflop: a miniature transformer training lab for Chinchilla-style IsoFLOP sweeps.
import PackageDescription

// Hot loops are written with explicit bounds; release builds drop the redundant checks.
let fast: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release)),
]

let package = Package(
    name: "isoflop",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "isoflop", targets: ["isoflop"]),
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
        .target(name: "Tensor", dependencies: ["CBLAS", "CKernels"], swiftSettings: fast),
        .target(name: "Autograd", dependencies: ["Tensor"], swiftSettings: fast),
        .target(name: "Model", dependencies: ["Autograd", "Tensor"], swiftSettings: fast),
        .target(name: "Tokenizer", swiftSettings: fast),
        .target(name: "Corpus", dependencies: ["Tokenizer"], swiftSettings: fast),
        .target(name: "Training", dependencies: ["Model", "Tensor", "Tokenizer"], swiftSettings: fast),
        .target(name: "Sweep", dependencies: ["Tensor", "Model", "Training", "CSQLite", "CLibPQ"], swiftSettings: fast),
        .target(name: "Fit", dependencies: ["Tensor"], swiftSettings: fast),
        .target(name: "Report", dependencies: ["Tensor"], swiftSettings: fast),
        // Test support: a throwaway PostgreSQL server for the store tests of several test targets.
        .target(name: "PostgresFixture", dependencies: ["Sweep"], path: "Tests/PostgresFixture"),
        .executableTarget(
            name: "isoflop",
            dependencies: [
                "CBLAS", "Tensor", "Model", "Tokenizer", "Corpus", "Training", "Sweep", "Fit", "Report",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: fast),
        .testTarget(name: "TensorTests", dependencies: ["Tensor"]),
        .testTarget(name: "AutogradTests", dependencies: ["Autograd", "Tensor"]),
        .testTarget(name: "ModelTests", dependencies: ["Model", "Tensor"]),
        .testTarget(name: "TokenizerTests", dependencies: ["Tokenizer", "Corpus", "Tensor"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Model", "Tensor", "Tokenizer"]),
        .testTarget(name: "SweepTests", dependencies: ["Sweep", "Training", "Model", "Tensor", "PostgresFixture"]),
        .testTarget(name: "FitTests", dependencies: ["Fit", "Tensor"]),
        .testTarget(name: "ReportTests", dependencies: ["Report", "Fit", "Tensor"]),
        .testTarget(name: "CLITests", dependencies: ["isoflop", "Sweep", "Fit", "PostgresFixture"]),
    ],
    swiftLanguageModes: [.v5]
)
