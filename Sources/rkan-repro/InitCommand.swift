import ArgumentParser
import Foundation
import Harness

/// `rkan-repro init`: a model's initial weights, the exact bytes a run with that seed starts from.
struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a model's initial weights (the bytes a run with that seed starts from) to an HDF5 file.",
        discussion: """
        W.h5 gets /weights/<state-dict key> (float32 in PyTorch shapes, num_batches_tracked int64) and root \
        attributes schema (rkan-repro-init/1), model, classes, in_channels, seed, weights_sha256. A run's model \
        is its suite row's spec with the profile's width, e.g. "resnet18(stem=small,width=0.25)+rkan". An existing \
        file that init did not write is kept unless --force is given.
        """)

    @Argument(help: "Model spec, e.g. resnet101+rkan or \"resnet18(stem=small,width=0.25)+rkan\".") var spec: String
    @Option(help: "Number of classes.") var classes: Int
    @Option(help: "Input channels.") var inChannels: Int = 3
    @Option(help: "Seed (as a run's seed).") var seed: Int
    @Option(help: "HDF5 file to write.") var out: String
    @Flag(help: "Replace --out even when it is not a file init wrote.") var force = false

    func validate() throws {
        if classes < 1 || inChannels < 1 { throw ValidationError("--classes and --in-channels must be ≥ 1") }
        if seed < 0 { throw ValidationError("--seed must be ≥ 0, got \(seed)") }
    }

    func run() throws {
        try runReportingErrors {
            let s = try InitialWeights.write(spec: spec, classes: classes, inChannels: inChannels, seed: seed,
                                             out: URL(fileURLWithPath: out), overwrite: force)
            print("wrote \(out): \(s.spec), \(s.tensors) tensors, \(s.parameters) parameters, weights_sha256 \(s.weightsSHA256)")
            return 0
        }
    }
}
