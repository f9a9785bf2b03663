// swift-tools-version:6.0
import PackageDescription

/// rkan-repro: a deterministic CPU reproduction harness for the RKAN paper.
/// Module map (docs/design.md): C shims → Engine → Zoo (→ Detection) / Datasets / COCO / RunStore / Distributed → Harness → CLI.
/// Release builds use the default -O (bounds and precondition checks stay on: a bug traps
/// instead of corrupting a week-long run).
let optimized: [SwiftSetting] = []

let package = Package(
    name: "rkan-repro",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "rkan-repro", targets: ["rkan-repro"]),
        .executable(name: "rkan-bench", targets: ["rkan-bench"]),
        .library(name: "Harness", targets: ["Harness"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // System libraries (Debian -dev packages), each with a header-only shim.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Open MPI (always built; a plain run never initialises MPI, so it needs no mpirun).
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),

        // The engine's own C: Winograd transforms and pointwise kernels built for SSE2, AVX2 and
        // AVX-512 (runtime dispatch, the same bytes).
        .target(name: "CKernels"),
        .target(name: "Engine", dependencies: ["CBLAS", "CKernels"], swiftSettings: optimized),
        .target(name: "Zoo", dependencies: ["Engine"], swiftSettings: optimized),
        // The detector (Mask R-CNN around the zoo's backbones); its ops live in Engine/Ops/Detection.
        .target(name: "Detection", dependencies: ["Engine", "Zoo"], swiftSettings: optimized),
        .target(name: "Datasets", dependencies: ["Engine", "CJPEG", "CZlib"], swiftSettings: optimized),
        .target(name: "RunStore", dependencies: ["Engine", "CHDF5"]),
        // COCO: instances JSON reader, masks (pycocotools' RLE semantics), evaluation, the shapes data set.
        .target(name: "COCO", dependencies: ["Engine", "Datasets"], swiftSettings: optimized),
        // Data-parallel ranks over MPI: the Engine's Communicator on MPI_COMM_WORLD.
        .target(name: "Distributed", dependencies: ["Engine", "CMPI"]),
        .target(name: "Harness", dependencies: [
            "Engine", "Zoo", "Detection", "Datasets", "COCO", "RunStore", "Distributed",
            .product(name: "Yams", package: "Yams"),
        ]),
        .executableTarget(name: "rkan-repro", dependencies: [
            "Harness", "RunStore", "Zoo", "COCO",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "rkan-bench", dependencies: [
            "Harness", "COCO", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Benchmarks/rkan-bench",
                          swiftSettings: optimized),

        .target(name: "TestSupport", dependencies: ["Engine", "RunStore"], path: "Tests/TestSupport"),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "TestSupport"]),
        .testTarget(name: "ZooTests", dependencies: ["Zoo", "TestSupport"]),
        .testTarget(name: "DetectionTests", dependencies: ["Detection", "TestSupport"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "TestSupport"]),
        .testTarget(name: "COCOTests", dependencies: ["COCO", "TestSupport"]),
        .testTarget(name: "RunStoreTests", dependencies: ["RunStore", "TestSupport"]),
        .testTarget(name: "HarnessTests", dependencies: ["Harness", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["Harness", "Detection", "TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
