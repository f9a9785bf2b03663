import ArgumentParser
import Foundation
import Harness

struct Forward: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "One forward (and with --grad, backward) pass on given weights: the parity interface with PyTorch.",
        discussion: "X.h5 holds /input float32 (N,C,H,W) and, for --grad, /labels int64 (N) and optional attribute label_smoothing. Y.h5 gets /logits, and with --grad /loss and /grads/<key>.")

    @Option(help: "Model spec, e.g. resnet50+rkan(inv=4).") var model: String
    @Option(help: "Number of classes.") var classes: Int
    @Option(help: "Input channels (default: from the input).") var inChannels: Int?
    @Option(help: "HDF5 file with /weights/<state-dict key>.") var weights: String
    @Option(help: "HDF5 file with /input (and /labels).") var input: String
    @Option(help: "HDF5 file to write.") var output: String
    @Flag(help: "Train mode: also write /loss and /grads/<key>.") var grad = false
    @Option(help: "Threads.") var threads: Int?

    func validate() throws {
        try validateAtLeast(classes, 1, "--classes")
        try validateAtLeast(inChannels, 1, "--in-channels")
        try validateAtLeast(threads, 1, "--threads")
    }

    func run() throws {
        try runReportingErrors {
            let s = try ForwardPass.run(spec: model, classes: classes, inChannels: inChannels, weights: URL(fileURLWithPath: weights),
                                        input: URL(fileURLWithPath: input), output: URL(fileURLWithPath: output), grad: grad,
                                        threads: configureThreads(threads))
            if !s.ignoredKeys.isEmpty {
                FileHandle.standardError.write(Data(("note: \(s.ignoredKeys.count) weights in the file are not used by \(model) "
                    + "(modules the reference class builds but this configuration never calls):\n  "
                    + s.ignoredKeys.joined(separator: "\n  ") + "\n").utf8))
            }
            print("logits \(s.logitsShape)" + (s.loss.map { ", loss \($0), \(s.gradients) gradients" } ?? ""))
            return 0
        }
    }
}

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Throughput (img/s) of model specs: timm's method, median of repeats.")

    @Argument(help: "Model specs.") var specs: [String]
    @Option(help: "Input side.") var size: Int = 32
    @Option(help: "Batch size.") var batch: Int = 64
    @Option(help: "train or infer (default: both).") var mode: String?
    @Option(help: "Classes of the classifier.") var classes: Int = 100
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
        try validateAtLeast(inChannels, 1, "--in-channels")
        try validateAtLeast(threads, 1, "--threads")
    }

    func run() throws {
        try runReportingErrors {
            let n = configureThreads(threads)
            let modes: [BenchMode] = mode.map { [BenchMode(rawValue: $0)!] } ?? BenchMode.allCases
            for spec in specs {
                for m in modes {
                    let r = try BenchCommand.measure(spec: spec, classes: classes, inChannels: inChannels, mode: m, batch: batch,
                                                     size: size, warmup: warmup, iterations: iterations, repeats: repeats, threads: n)
                    print(json ? BenchCommand.json(r) : String(format: "%@  %@  batch %d  %d×%d  %d threads  OpenBLAS core %@  %@  %.1f img/s  (repeats: %@)",
                        r.spec, r.mode.rawValue, r.batch, r.size, r.size, n, r.blasCore, r.convAlgorithm, r.imagesPerSecond,
                        r.repeats.map { String(format: "%.1f", $0) }.joined(separator: ", ")))
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
