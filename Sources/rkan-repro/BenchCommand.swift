import ArgumentParser
import Foundation
import Harness

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Throughput (img/s) of model specs: timm's method, median of repeats.",
        discussion: """
        RKAN_CONV_ALGO picks the 3×3 conv algorithm and RKAN_WINO_GEMM (openblas or own; default own \
        on CPUs with AVX2 + FMA) the GEMM of its Winograd forward and input gradient, as for every \
        command; the output names both ("winograd-mixed, own GEMM").
        """)

    @Argument(help: "Model specs.") var specs: [String]
    @Option(help: "Input side.") var size: Int = 32
    @Option(help: "Batch size.") var batch: Int = 64
    @Option(help: "train or infer (default: both).") var mode: String?
    @Option(help: "Classes of the classifier (default 100), or of a maskrcnn(…) detector with its background (default 81, COCO's).") var classes: Int?
    @Option(help: "Input channels.") var inChannels: Int = 3
    @Option(help: "Untimed iterations.") var warmup: Int = 10
    @Option(help: "Timed iterations per repeat.") var iterations: Int = 40
    @Option(help: "Repeats (the median is reported).") var repeats: Int = 3
    @Option(help: "Threads.") var threads: Int?
    @Flag(help: "Print one JSON object per measurement.") var json = false

    func validate() throws {
        if let m = mode, !["train", "infer"].contains(m) { throw ValidationError("--mode must be train or infer") }
        try validateAtLeast(size, 8, "--size")
        try validateAtLeast(batch, 1, "--batch")
        try validateAtLeast(iterations, 1, "--iterations")
        try validateAtLeast(repeats, 1, "--repeats")
        try validateAtLeast(warmup, 0, "--warmup")
        try validateAtLeast(classes, 1, "--classes")
        if let c = classes, c < 2, specs.contains(where: { $0.hasPrefix("maskrcnn(") }) {
            throw ValidationError("--classes: a detector needs at least 2 classes (objects and the background), got \(c)")
        }
        try validateAtLeast(inChannels, 1, "--in-channels")
        try validateAtLeast(threads, 1, "--threads")
    }

    func run() throws {
        try runReportingErrors {
            let n = configureThreads(threads)
            let modes: [BenchMode] = mode.map { [BenchMode(rawValue: $0)!] } ?? BenchMode.allCases
            for spec in specs {
                for m in modes {
                    let k = classes ?? (spec.hasPrefix("maskrcnn(") ? DetectorBuild.cocoClasses : 100)
                    let r = try BenchCommand.measure(spec: spec, classes: k, inChannels: inChannels, mode: m, batch: batch,
                                                     size: size, warmup: warmup, iterations: iterations, repeats: repeats, threads: n)
                    print(json ? BenchCommand.json(r) : String(format: "%@  %@  batch %d  %d×%d  %d threads  OpenBLAS core %@  %@  %.1f img/s  (repeats: %@; %.2f threads busy)",
                        r.spec, r.mode.rawValue, r.batch, r.size, r.size, n, r.blasCore, r.convAlgorithm, r.imagesPerSecond,
                        r.repeats.map { String(format: "%.1f", $0) }.joined(separator: ", "), r.busyThreads ?? .nan))
                }
            }
            return 0
        }
    }
}

/// `--threads`, or every core when not given.
func configureThreads(_ t: Int?) -> Int {
    t ?? ProcessInfo.processInfo.activeProcessorCount
}
