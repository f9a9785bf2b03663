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
