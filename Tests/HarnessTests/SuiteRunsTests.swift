import Foundation
import XCTest
import TestSupport
import RunStore
@testable import Harness

/// `Suite.runs(profile:only:seeds:)`: the profile's overrides, width scaling of the specs, image
/// size, subsets, bench sizes and the run order, against values written out by hand.
final class SuiteRunsTests: XCTestCase {
    private let demo = { try Suite.decode(yaml: demoYAML, file: "Suites/demo.yaml") }

    func testPaperProfileIsTheProtocolUnchanged() throws {
        let suite = try demo()
        let runs = try suite.runs(profile: "paper")
        XCTAssertEqual(runs.map { "\($0.experiment)/\($0.seed)" }, ["resnet101/0", "rkanet101/0"])
        for run in runs {
            XCTAssertEqual(run.training, suite.protocol)
            XCTAssertEqual(run.model, suite.experiment(run.experiment)?.model, "width 1 leaves the spec as written")
            XCTAssertNil(run.trainSubset)
            XCTAssertNil(run.testSubset)
            XCTAssertEqual(run.imageSize, 32, "the suite's resolution")
            XCTAssertEqual(run.evalBatchSize, 128)
            XCTAssertEqual(run.dataset, .cifar100)
            XCTAssertEqual(run.slot, RunSlot(suite: "demo", profile: "paper", experiment: run.experiment, seed: run.seed))
        }
        XCTAssertEqual(runs.seeds, [0])
    }

    func testProfileOverridesApply() throws {
        let suite = try demo()
        let smoke = try suite.runs(profile: "smoke")
        XCTAssertEqual(smoke.count, 2)
        let t = smoke[0].training
        XCTAssertEqual(t.epochs, 1)
        XCTAssertEqual(t.batchSize, 128, "not overridden")
        XCTAssertEqual(t.schedule.warmupEpochs, 0)
        XCTAssertEqual(t.optimizer.lr, 0.05)
        XCTAssertEqual(t.augment, suite.protocol.augment)
        XCTAssertEqual(smoke[0].trainSubset, 512)
        XCTAssertEqual(smoke[0].testSubset, 256)
        XCTAssertEqual(smoke[0].imageSize, 16)

        let nightly = try suite.runs(profile: "nightly")
        XCTAssertEqual(nightly[0].training.epochs, 10)
        XCTAssertEqual(nightly[0].training.optimizer.lr, 0.1)
        XCTAssertEqual(nightly[0].training.schedule.warmupEpochs, 1)
        XCTAssertEqual(nightly[0].training.augment, AugmentConfig(hflip: false), "augment is replaced as a whole")
        XCTAssertEqual(nightly.map { "\($0.experiment)/\($0.seed)" }, ["resnet101/0", "resnet101/1", "rkanet101/0", "rkanet101/1"])

        let some = try suite.runs(profile: "nightly", only: ["rkanet101"], seeds: [2, 1])
        XCTAssertEqual(some.map { "\($0.experiment)/\($0.seed)" }, ["rkanet101/1", "rkanet101/2"])
        XCTAssertThrowsError(try suite.runs(profile: "nightly", only: ["nope"]))
        XCTAssertThrowsError(try suite.runs(profile: "nightly", only: []))
        XCTAssertThrowsError(try suite.runs(profile: "nightly", seeds: [-1]))
    }

    /// The profile's width multiplies the backbone's channels of every row: the run's spec carries
    /// it (and so its run file and its `init` bytes), times any width the row's spec has itself.
    func testProfileWidthScalesEverySpec() throws {
        let smoke = try demo().runs(profile: "smoke")
        XCTAssertEqual(smoke.map(\.model.description), ["resnet101(width=0.125)", "resnet101(width=0.125)+rkan"])
        let own = try Suite.decode(yaml: demoYAML.replacingOccurrences(of: "model: resnet101+rkan", with: "model: resnet101(width=0.5)+rkan"),
                                   file: "Suites/demo.yaml")
        XCTAssertEqual(try own.runs(profile: "smoke")[1].model.description, "resnet101(width=0.0625)+rkan", "0.5 × 0.125")
        XCTAssertEqual(try own.runs(profile: "nightly").last?.model.description, "resnet101(width=0.5)+rkan", "no width: the row's own")
    }

    /// Bench sizes: batch min(batch_size, 32), 3 warm-up and 8 timed iterations, 3 repeats, unless
    /// the profile's `bench` says otherwise.
    func testBenchSizesComeFromTheProfile() throws {
        XCTAssertEqual(try demo().runs(profile: "smoke")[0].bench, .init(batch: 32, warmup: 3, iterations: 8, repeats: 3))
        let yaml = demoYAML.replacingOccurrences(of: "warmup_epochs: 0}", with: "warmup_epochs: 0, batch_size: 16, bench: {warmup: 1, iterations: 2}}")
        let suite = try Suite.decode(yaml: yaml, file: "Suites/demo.yaml")
        XCTAssertEqual(try suite.runs(profile: "smoke")[0].bench, .init(batch: 16, warmup: 1, iterations: 2, repeats: 3))
        XCTAssertEqual(try suite.runs(profile: "smoke")[0].evalBatchSize, 64)
        XCTAssertEqual(suiteError(yaml.replacingOccurrences(of: "iterations: 2", with: "iters: 2"))?.kind, .unknownKey)
    }

    func testUnknownProfileListsTheProfiles() throws {
        XCTAssertThrowsError(try demo().runs(profile: "weekly")) { error in
            let error = error as? SuiteError
            XCTAssertEqual(error?.kind, .unknownProfile)
            XCTAssertEqual(error?.line, 16)
            XCTAssertEqual(error?.description,
                           "Suites/demo.yaml:16: key 'profiles.weekly': the suite 'demo' has no profile 'weekly'. "
                           + "Use one of: paper, nightly, smoke, or add it under 'profiles'.")
        }
    }

    /// The `config` attribute of a run file is this JSON: the bytes of the Fashion-MNIST smoke run
    /// files made before the typed plan (spec and dataset encoded as their text).
    func testRunConfigJSONKeepsTheRunFileBytes() throws {
        let suite = try SuiteLibrary.find("fashion-mnist", in: packageRoot.appendingPathComponent("Suites"))
        let run = try XCTUnwrap(try suite.runs(profile: "smoke", only: ["rkanet18"], seeds: [1]).first)
        XCTAssertEqual(run.canonicalJSON, #"{"bench":{"batch":32,"iterations":2,"repeats":3,"warmup":1},"dataset":"fashion-mnist","eval_batch_size":64,"experiment":"rkanet18","image_size":28,"model":"resnet18(stem=small,width=0.125)+rkan","profile":"smoke","seed":1,"suite":"fashion-mnist","test_subset":128,"train_subset":256,"training":{"augment":{"hflip":true,"pad_crop":2},"batch_size":64,"epochs":1,"label_smoothing":0,"optimizer":{"lr":0.05,"momentum":0.9,"name":"sgd","nesterov":true,"weight_decay":0.0005},"schedule":{"min_lr":1e-05,"name":"warmup_cosine","warmup_epochs":1}}}"#)
    }

    func testFashionMNISTSuiteFromTheLibrary() throws {
        let folder = packageRoot.appendingPathComponent("Suites")
        let suite = try SuiteLibrary.find("fashion-mnist", in: folder)
        XCTAssertEqual(suite.experiments.map(\.model.description), ["resnet18(stem=small)", "resnet18(stem=small)+rkan"])
        XCTAssertEqual(suite.dataset, SuiteDataset(name: .fashionMNIST, resolution: 28))
        XCTAssertEqual(suite.seeds, [0, 1, 2])
        let p = suite.protocol
        XCTAssertEqual([p.epochs, p.batchSize, p.schedule.warmupEpochs], [15, 128, 1])
        XCTAssertEqual(p.optimizer, OptimizerConfig(name: .sgd, lr: 0.05, momentum: 0.9, nesterov: true,
                                                    weightDecay: 5e-4, betas: nil))
        XCTAssertEqual(p.schedule.name, .warmupCosine)
        XCTAssertEqual(p.schedule.minLr, 1e-5)
        XCTAssertEqual(p.labelSmoothing, 0, "plain cross-entropy, as the reference notebook (22e50367)")
        XCTAssertEqual(p.augment, AugmentConfig(hflip: true, padCrop: 2))
        XCTAssertEqual(suite.profileNames, ["paper", "default", "full", "nightly", "smoke"])
        XCTAssertEqual(suite.profiles["smoke"], SuiteProfile(epochs: 1, batchSize: 64, trainSubset: 256, testSubset: 128, width: 0.125,
                                                                 bench: BenchSizes(warmup: 1, iterations: 2)))
        XCTAssertEqual(suite.profiles["full"], SuiteProfile())
        XCTAssertEqual(try suite.runs(profile: "full")[0].training, p)
        XCTAssertEqual(suite.experiments.map(\.role), [.baseline, .rkan])
        XCTAssertEqual(suite.experiments[1].baseline, "resnet18")
        XCTAssertTrue(suite.experiments.allSatisfy { $0.paper == nil })
        XCTAssertTrue(suite.source.contains("no Fashion-MNIST table"))
    }

    func testLibraryErrors() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("suites-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try demoYAML.write(to: folder.appendingPathComponent("other.yaml"), atomically: true, encoding: .utf8)
        XCTAssertEqual(SuiteLibrary.names(in: folder), ["other"])
        XCTAssertThrowsError(try SuiteLibrary.find("missing", in: folder)) { error in
            XCTAssertEqual((error as? SuiteError)?.kind, .fileNotFound)
            XCTAssertTrue("\(error)".contains("other"), "lists the suites present: \(error)")
        }
        XCTAssertThrowsError(try SuiteLibrary.find("other", in: folder)) { error in
            XCTAssertEqual((error as? SuiteError)?.kind, .invalidValue)
            XCTAssertEqual((error as? SuiteError)?.line, 1)
        }
    }
}
