import ArgumentParser
import Foundation
import Harness
import Zoo

struct Forward: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "One forward (and with --grad, backward) pass on given weights: the parity interface with PyTorch.",
        discussion: "X.h5 holds /input float32 (N,C,H,W) and, for --grad, /labels int64 (N) and optional attribute label_smoothing. Y.h5 gets /logits, and with --grad /loss and /grads/<key>. "
            + "For a detector (maskrcnn(…)), X.h5 holds /images/i float32 (3,H,W) in [0,1] and, for --grad, /targets/i/{boxes,labels,masks} and optional /draws/i/{rpn_positive,rpn_negative,roi}; "
            + "Y.h5 gets /detections/i/{boxes,scores,labels,masks}, and with --grad /losses/<name>, /grads/<key> and /draws/i/….")

    @Option(help: "Model spec, e.g. resnet50+rkan(inv=4).") var model: String
    @Option(help: "Number of classes (required for a classifier; 81 by default for a detector).") var classes: Int?
    @Option(help: "Input channels (default: from the input).") var inChannels: Int?
    @Option(help: "HDF5 file with /weights/<state-dict key>.") var weights: String
    @Option(help: "HDF5 file with /input (and /labels), or for a detector /images (and /targets).") var input: String
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
            let spec = try ModelSpec(parsing: model)
            if spec.detector != nil { return try runDetector(spec) }
            guard let classes else {
                throw HarnessError.badConfig(what: "--classes", detail: "a classifier's forward pass needs --classes (the number of outputs the weights were trained for)")
            }
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

    func runDetector(_ spec: ModelSpec) throws -> Int32 {
        if let c = inChannels, c != 3 {
            throw HarnessError.badConfig(what: "--in-channels \(c)", detail: "a detector takes RGB images (3 channels); leave --in-channels out")
        }
        let s = try DetectionForwardPass.run(spec: spec, classes: classes ?? 81, weights: URL(fileURLWithPath: weights),
                                             input: URL(fileURLWithPath: input), output: URL(fileURLWithPath: output), grad: grad,
                                             threads: configureThreads(threads))
        if s.aliasKeys > 0 || !s.ignoredKeys.isEmpty {
            let shown: String = s.ignoredKeys.prefix(12).joined(separator: "\n  ") + (s.ignoredKeys.count > 12 ? "\n  …" : "")
            var note = "note: \(s.aliasKeys + s.ignoredKeys.count) weights in the file are not read: \(s.aliasKeys) repeat the "
            note += "detector's tensors under RKAN_RCNN's other names, \(s.ignoredKeys.count) belong to modules \(model) never calls"
            note += s.ignoredKeys.isEmpty ? "\n" : ":\n  " + shown + "\n"
            FileHandle.standardError.write(Data(note.utf8))
        }
        if grad {
            print(s.losses.map { "\($0.name) \($0.value)" }.joined(separator: ", ") + ", \(s.gradients) gradients")
        } else {
            print("detections per image \(s.detections)")
        }
        return 0
    }
}
