import Foundation
import XCTest
import TestSupport

/// The end-to-end tests run the built binary through TestSupport's `RkanBinary`.
typealias CLI = RkanBinary

extension RkanBinary {
    /// The repository root.
    static var root: URL { packageRoot }

    /// A suites folder holding a tiny Fashion-MNIST suite (3 epochs of 3 steps per run).
    static func tinySuites(extra: String = "", model: String = "resnet18(stem=small)") throws -> URL {
        let dir = try makeTempFolder("suites")
        let yaml = """
        suite: tiny
        title: Tiny Fashion-MNIST
        source: test
        dataset: {name: fashion-mnist}
        protocol:
          epochs: 3
          batch_size: 64
          optimizer: {name: sgd, lr: 0.05, momentum: 0.9, nesterov: true, weight_decay: 5.0e-4}
          schedule: {name: warmup_cosine, warmup_epochs: 1, min_lr: 1.0e-5}
          label_smoothing: 0.1
          augment: {hflip: true, pad_crop: 2}
        profiles:
          t: {train_subset: 192, test_subset: 64, width: 0.125}
        seeds: [0]
        experiments:
          - {id: base, model: "\(model)"}
          - {id: rkan, model: "\(model)+rkan", baseline: base}
        \(extra)
        """
        try yaml.write(to: dir.appendingPathComponent("tiny.yaml"), atomically: true, encoding: .utf8)
        return dir
    }
}
