import Foundation
import XCTest
import Zoo
@testable import Harness

final class SuiteDecodingTests: XCTestCase {
    func testDecodesEveryField() throws {
        let suite = try Suite.decode(yaml: demoYAML, file: "Suites/demo.yaml")
        XCTAssertEqual(suite.suite, "demo")
        XCTAssertEqual(suite.title, "Demo (32×32)")
        XCTAssertEqual(suite.dataset, SuiteDataset(name: .cifar100, resolution: 32))
        let p = suite.protocol
        XCTAssertEqual(p.epochs, 200)
        XCTAssertEqual(p.batchSize, 128)
        XCTAssertEqual(p.optimizer.name, .sgd)
        XCTAssertEqual(p.optimizer.lr, 0.05)
        XCTAssertEqual(p.optimizer.momentum, 0.9)
        XCTAssertTrue(p.optimizer.nesterov)
        XCTAssertEqual(p.optimizer.weightDecay, 5e-4)
        XCTAssertNil(p.optimizer.betas)
        XCTAssertEqual(p.schedule.name, .warmupCosine)
        XCTAssertEqual(p.schedule.warmupEpochs, 10)
        XCTAssertEqual(p.schedule.minLr, 1e-5)
        XCTAssertEqual(p.labelSmoothing, 0.1)
        XCTAssertEqual(p.augment, AugmentConfig(hflip: true, randaugment: .init(n: 2, m: 9),
                                                cutmix: .init(p: 0.5, alpha: 1), mixup: .init(p: 0.3, alpha: 0.2)))
        XCTAssertEqual(suite.profiles["smoke"], SuiteProfile(epochs: 1, trainSubset: 512, testSubset: 256,
                                                             resolution: 16, width: 0.125, warmupEpochs: 0))
        XCTAssertEqual(suite.profiles["nightly"]?.augment, AugmentConfig(hflip: false))
        XCTAssertEqual(suite.profiles["nightly"]?.seeds, [0, 1])
        XCTAssertEqual(suite.profileNames, ["paper", "nightly", "smoke"])
        XCTAssertEqual(suite.seeds, [0])
        XCTAssertEqual(suite.experiments.map(\.id), ["resnet101", "rkanet101"])
        XCTAssertEqual(suite.experiments.map(\.role), [.baseline, .rkan], "role derived from 'baseline'")
        XCTAssertEqual(suite.experiments[1].baseline, "resnet101")
        XCTAssertEqual(suite.experiments[1].paper, PaperValues(top1: 85.12, imgPerSec: 1852, paramsM: 44.28))
        XCTAssertEqual(suite.origin.lines["experiments[1].model"], 23)
        XCTAssertEqual(suite.origin.lines["profiles"], 16)
    }

    func testCodableRoundTripUsesSnakeCaseKeys() throws {
        var suite = try Suite.decode(yaml: demoYAML, file: "Suites/demo.yaml")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(suite), as: UTF8.self)
        for key in ["\"batch_size\":128", "\"weight_decay\":0.0005", "\"warmup_epochs\":10", "\"params_m\":44.28",
                    "\"img_s\":1852", "\"train_subset\":512", "\"label_smoothing\":0.1", "\"name\":\"warmup_cosine\""] {
            XCTAssertTrue(json.contains(key), "JSON lacks \(key): \(json)")
        }
        let back = try JSONDecoder().decode(Suite.self, from: Data(json.utf8))
        suite.origin = SuiteOrigin()
        XCTAssertEqual(back, suite)
    }

    func testUnknownKeyAtNestedDepthNamesLineAndAllowedKeys() {
        let error = suiteError(demo(replacing: "cutmix: {p: 0.5, alpha: 1.0}", with: "cutmix: {p: 0.5, alpha: 1.0, beta: 2}"))
        XCTAssertEqual(error?.kind, .unknownKey)
        XCTAssertEqual(error?.line, 14)
        XCTAssertEqual(error?.key, "protocol.augment.cutmix.beta")
        XCTAssertEqual(error?.description,
                       "Suites/demo.yaml:14: key 'protocol.augment.cutmix.beta': unknown key. Allowed keys here: p, alpha.")

        let block = suiteError(demo(replacing: "    hflip: true", with: "    hlip: true"))
        XCTAssertEqual(block?.kind, .unknownKey)
        XCTAssertEqual(block?.line, 12)
        XCTAssertEqual(block?.key, "protocol.augment.hlip")
        XCTAssertTrue(block?.description.contains("hflip, pad_crop, randaugment, autoaugment, cutmix, mixup") ?? false)

        let experiment = suiteError(demo(replacing: "    baseline: resnet101", with: "    baseline: resnet101\n    notes: x"))
        XCTAssertEqual(experiment?.line, 25)
        XCTAssertEqual(experiment?.key, "experiments[1].notes")

        let top = suiteError(demoYAML + "extra: 1\n")
        XCTAssertEqual(top?.line, 26)
        XCTAssertEqual(top?.key, "extra")
    }

    func testWrongTypeNamesLineAndKey() {
        let text = suiteError(demo(replacing: "  epochs: 200", with: "  epochs: two hundred"))
        XCTAssertEqual(text?.kind, .wrongType)
        XCTAssertEqual(text?.line, 6)
        XCTAssertEqual(text?.key, "protocol.epochs")
        XCTAssertTrue(text?.description.hasPrefix("Suites/demo.yaml:6: key 'protocol.epochs': expected an integer, found 'two hundred'.") ?? false,
                      text?.description ?? "")

        let quoted = suiteError(demo(replacing: "  epochs: 200", with: "  epochs: \"200\""))
        XCTAssertEqual(quoted?.kind, .wrongType, "a quoted number is a string")

        let fraction = suiteError(demo(replacing: "  epochs: 200", with: "  epochs: 200.5"))
        XCTAssertEqual(fraction?.kind, .wrongType)

        let scalar = suiteError(demo(replacing: "  optimizer: {name: sgd, lr: 0.05, momentum: 0.9, nesterov: true, weight_decay: 5.0e-4}",
                                     with: "  optimizer: sgd"))
        XCTAssertEqual(scalar?.kind, .wrongType)
        XCTAssertEqual(scalar?.line, 8)
        XCTAssertEqual(scalar?.key, "protocol.optimizer")

        let bool = suiteError(demo(replacing: "nesterov: true", with: "nesterov: 1"))
        XCTAssertEqual(bool?.kind, .wrongType)
        XCTAssertEqual(bool?.key, "protocol.optimizer.nesterov")

        let list = suiteError(demo(replacing: "seeds: [0]", with: "seeds: 0"))
        XCTAssertEqual(list?.kind, .wrongType)
        XCTAssertEqual(list?.line, 19)
    }

    func testMissingKeyNamesParentLineAndFix() {
        let error = suiteError(demo(replacing: "  batch_size: 128\n", with: ""))
        XCTAssertEqual(error?.kind, .missingKey)
        XCTAssertEqual(error?.line, 5, "reported at the 'protocol:' line")
        XCTAssertEqual(error?.key, "protocol.batch_size")
        XCTAssertEqual(error?.description,
                       "Suites/demo.yaml:5: key 'protocol.batch_size': required key is missing in 'protocol'. Add 'batch_size: 128'.")

        let flow = suiteError(demo(replacing: "{name: cifar100, resolution: 32}", with: "{resolution: 32}"))
        XCTAssertEqual(flow?.kind, .missingKey)
        XCTAssertEqual(flow?.line, 4)
        XCTAssertEqual(flow?.key, "dataset.name")

        let empty = suiteError(demo(replacing: "  epochs: 200", with: "  epochs:"))
        XCTAssertEqual(empty?.kind, .wrongType, "present but empty is not 'missing'")
        XCTAssertEqual(empty?.line, 6)
        XCTAssertEqual(empty?.key, "protocol.epochs")

        let top = suiteError(demo(replacing: "title: Demo (32×32)\n", with: ""))
        XCTAssertEqual(top?.key, "title")
        XCTAssertEqual(top?.kind, .missingKey)
    }

    func testBadBaselineReference() {
        let error = suiteError(demo(replacing: "    baseline: resnet101", with: "    baseline: resnet50"))
        XCTAssertEqual(error?.kind, .badReference)
        XCTAssertEqual(error?.line, 24)
        XCTAssertEqual(error?.key, "experiments[1].baseline")
        XCTAssertTrue(error?.description.contains("Use one of the experiment ids: resnet101, rkanet101") ?? false,
                      error?.description ?? "")

        let self_ = suiteError(demo(replacing: "    baseline: resnet101", with: "    baseline: rkanet101"))
        XCTAssertNotNil(self_)
        XCTAssertEqual(self_?.line, 24)

        let contradiction = suiteError(demo(replacing: "    baseline: resnet101", with: "    baseline: resnet101\n    role: baseline"))
        XCTAssertEqual(contradiction?.kind, .invalidValue)
        XCTAssertEqual(contradiction?.line, 24)
    }

    func testDuplicateExperimentIdAndDuplicateKey() {
        let error = suiteError(demo(replacing: "  - id: rkanet101", with: "  - id: resnet101"))
        XCTAssertEqual(error?.kind, .duplicateExperiment)
        XCTAssertEqual(error?.line, 22)
        XCTAssertEqual(error?.key, "experiments[1]")

        let key = suiteError(demo(replacing: "  epochs: 200\n", with: "  epochs: 200\n  epochs: 100\n"))
        XCTAssertEqual(key?.kind, .duplicateKey)
        XCTAssertEqual(key?.line, 7)
        XCTAssertEqual(key?.key, "protocol.epochs")
    }

    func testInvalidValuesListTheChoices() {
        let name = suiteError(demo(replacing: "name: sgd", with: "name: adam"))
        XCTAssertEqual(name?.kind, .invalidValue)
        XCTAssertEqual(name?.line, 8)
        XCTAssertTrue(name?.description.contains("Use one of: sgd, adamw") ?? false)

        XCTAssertEqual(suiteError(demo(replacing: "lr: 0.05", with: "lr: -1"))?.kind, .invalidValue)
        XCTAssertEqual(suiteError(demo(replacing: "seeds: [0]", with: "seeds: [0, 0]"))?.kind, .invalidValue)
        XCTAssertEqual(suiteError(demo(replacing: "nightly:", with: "paper:"))?.kind, .invalidValue,
                       "'paper' is reserved")
        let warmup = suiteError(demo(replacing: ", width: 0.125, warmup_epochs: 0}", with: ", width: 0.125}"))
        XCTAssertEqual(warmup?.kind, .invalidValue, "smoke's 1 epoch cannot hold the protocol's 10 warm-up epochs")
        XCTAssertEqual(warmup?.line, 17)
        XCTAssertEqual(warmup?.key, "profiles.smoke")
        let betas = suiteError(demo(replacing: "weight_decay: 5.0e-4}", with: "weight_decay: 5.0e-4, betas: [0.9, 0.99]}"))
        XCTAssertEqual(betas?.kind, .invalidValue, "betas with sgd")
    }

    func testModelSpecIsParsedAtDecodingWithItsLine() throws {
        let error = suiteError(demo(replacing: "model: resnet101+rkan", with: "model: resnet101+rkan(kan=fourier)"))
        XCTAssertEqual(error?.kind, .invalidModel)
        XCTAssertEqual(error?.line, 23)
        XCTAssertEqual(error?.key, "experiments[1].model")
        XCTAssertTrue(error?.description.contains("fourier") ?? false, error?.description ?? "")
        let suite = try Suite.decode(yaml: demoYAML, file: "x")
        XCTAssertEqual(suite.experiments.map(\.model), [ModelSpec(backbone: .resnet101), ModelSpec(backbone: .resnet101, rkan: RKANOptions())])
    }

    func testDatasetIsParsedAtDecoding() throws {
        let error = suiteError(demo(replacing: "name: cifar100", with: "name: cifar1000"))
        XCTAssertEqual(error?.kind, .invalidValue)
        XCTAssertEqual(error?.key, "dataset.name")
        XCTAssertTrue(error?.description.contains("cifar100, tiny-imagenet") ?? false, "lists the known names: \(error?.description ?? "")")
        let suite = try Suite.decode(yaml: demoYAML, file: "x")
        XCTAssertEqual(suite.dataset.name.classes, 100)
        XCTAssertEqual(suite.dataset.name.channels, 3)
    }

    func testSyntaxErrorHasALine() {
        let error = suiteError(demo(replacing: "  epochs: 200", with: "  epochs: [200"))
        XCTAssertEqual(error?.kind, .syntax)
        XCTAssertNotNil(error?.line)
        XCTAssertEqual(suiteError("- a\n- b\n")?.kind, .wrongType, "the root must be a mapping")
        XCTAssertEqual(suiteError("")?.kind, .missingKey)
    }
}
