import Foundation
import XCTest
@testable import Harness

final class SuitePlanTests: XCTestCase {
    func testPaperProfileIsTheProtocolUnchanged() throws {
        let suite = try Suite.decode(yaml: demoYAML, file: "Suites/demo.yaml")
        let plan = try suite.resolved(profile: "paper")
        XCTAssertEqual(plan.training, suite.protocol)
        XCTAssertEqual(plan.width, 1)
        XCTAssertNil(plan.trainSubset)
        XCTAssertNil(plan.testSubset)
        XCTAssertEqual(plan.resolution, 32)
        XCTAssertEqual(plan.seeds, [0])
        XCTAssertEqual(plan.runs.map { "\($0.experiment.id)/\($0.seed)" }, ["resnet101/0", "rkanet101/0"])
    }

    func testProfileOverridesApply() throws {
        let suite = try Suite.decode(yaml: demoYAML, file: "Suites/demo.yaml")
        let smoke = try suite.resolved(profile: "smoke")
        XCTAssertEqual(smoke.training.epochs, 1)
        XCTAssertEqual(smoke.training.batchSize, 128, "not overridden")
        XCTAssertEqual(smoke.training.schedule.warmupEpochs, 0)
        XCTAssertEqual(smoke.training.optimizer.lr, 0.05)
        XCTAssertEqual(smoke.trainSubset, 512)
        XCTAssertEqual(smoke.testSubset, 256)
        XCTAssertEqual(smoke.resolution, 16)
        XCTAssertEqual(smoke.width, 0.125)
        XCTAssertEqual(smoke.training.augment, suite.protocol.augment)

        let nightly = try suite.resolved(profile: "nightly")
        XCTAssertEqual(nightly.training.epochs, 10)
        XCTAssertEqual(nightly.training.optimizer.lr, 0.1)
        XCTAssertEqual(nightly.training.schedule.warmupEpochs, 1)
        XCTAssertEqual(nightly.training.augment, AugmentConfig(hflip: false), "augment is replaced as a whole")
        XCTAssertEqual(nightly.runs.map { "\($0.experiment.id)/\($0.seed)" },
                       ["resnet101/0", "resnet101/1", "rkanet101/0", "rkanet101/1"])

        let some = try suite.resolved(profile: "nightly", only: ["rkanet101"], seeds: [2, 1])
        XCTAssertEqual(some.runs.map { "\($0.experiment.id)/\($0.seed)" }, ["rkanet101/1", "rkanet101/2"])
        XCTAssertThrowsError(try suite.resolved(profile: "nightly", only: ["nope"]))
    }

    func testUnknownProfileListsTheProfiles() throws {
        let suite = try Suite.decode(yaml: demoYAML, file: "Suites/demo.yaml")
        XCTAssertThrowsError(try suite.resolved(profile: "weekly")) { error in
            let error = error as? SuiteError
            XCTAssertEqual(error?.kind, .unknownProfile)
            XCTAssertEqual(error?.line, 16)
            XCTAssertEqual(error?.description,
                           "Suites/demo.yaml:16: key 'profiles.weekly': the suite 'demo' has no profile 'weekly'. "
                           + "Use one of: paper, nightly, smoke, or add it under 'profiles'.")
        }
    }

    func testPlanJSONIsDeterministic() throws {
        let suite = try Suite.decode(yaml: demoYAML, file: "Suites/demo.yaml")
        let json = try suite.resolved(profile: "smoke").json()
        XCTAssertEqual(json, try suite.resolved(profile: "smoke").json())
        XCTAssertTrue(json.contains("\"train_subset\":512"), json)
        XCTAssertTrue(json.hasPrefix("{\"dataset\":\"cifar100\""), json)
    }

    func testFashionMNISTSuiteFromTheLibrary() throws {
        let folder = packageRoot.appendingPathComponent("Suites")
        var specs: [String] = []
        let suite = try SuiteLibrary.find("fashion-mnist", in: folder) { specs.append($0) }
        XCTAssertEqual(specs, ["resnet18(stem=small)", "resnet18(stem=small)+rkan"])
        XCTAssertEqual(suite.dataset, SuiteDataset(name: "fashion-mnist", resolution: 28))
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
        XCTAssertEqual(suite.profiles["smoke"], SuiteProfile(epochs: 1, batchSize: 64, trainSubset: 256, testSubset: 128, width: 0.125))
        XCTAssertEqual(suite.profiles["full"], SuiteProfile())
        XCTAssertEqual(try suite.resolved(profile: "full").training, p)
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
