import Foundation
import XCTest
import TestSupport
@testable import Harness

/// A valid suite in the docs/design.md format; line numbers are referred to by the tests.
let demoYAML = """
suite: demo
title: Demo (32×32)
source: test fixture
dataset: {name: cifar100, resolution: 32}
protocol:
  epochs: 200
  batch_size: 128
  optimizer: {name: sgd, lr: 0.05, momentum: 0.9, nesterov: true, weight_decay: 5.0e-4}
  schedule: {name: warmup_cosine, warmup_epochs: 10, min_lr: 1.0e-5}
  label_smoothing: 0.1
  augment:
    hflip: true
    randaugment: {n: 2, m: 9}
    cutmix: {p: 0.5, alpha: 1.0}
    mixup: {p: 0.3, alpha: 0.2}
profiles:
  smoke: {epochs: 1, train_subset: 512, test_subset: 256, resolution: 16, width: 0.125, warmup_epochs: 0}
  nightly: {epochs: 10, lr: 0.1, warmup_epochs: 1, seeds: [0, 1], augment: {hflip: false}}
seeds: [0]
experiments:
  - {id: resnet101, model: resnet101, paper: {top1: 84.00, img_s: 2222, params_m: 42.71}}
  - id: rkanet101
    model: resnet101+rkan
    baseline: resnet101
    paper: {top1: 85.12, img_s: 1852, params_m: 44.28}

"""

/// `demoYAML` with one exact substring replaced (fails the test if it is absent).
func demo(replacing old: String, with new: String, file: StaticString = #filePath, line: UInt = #line) -> String {
    XCTAssertTrue(demoYAML.contains(old), "fixture lacks '\(old)'", file: file, line: line)
    return demoYAML.replacingOccurrences(of: old, with: new)
}

/// Decodes YAML expecting a `SuiteError`; returns it (nil and a failure when none is thrown).
func suiteError(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> SuiteError? {
    do {
        _ = try Suite.decode(yaml: yaml, file: "Suites/demo.yaml")
        XCTFail("expected a SuiteError", file: file, line: line)
    } catch let error as SuiteError {
        return error
    } catch {
        XCTFail("expected a SuiteError, got \(error)", file: file, line: line)
    }
    return nil
}

