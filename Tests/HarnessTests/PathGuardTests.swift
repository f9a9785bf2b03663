import Foundation
import XCTest
@testable import Harness

/// One rule for names that become paths (`RunName`), outputs compared with inputs by device
/// and inode (`OutputGuard`), and size bounds checked before allocation (`SizeLimits`).
final class PathGuardTests: XCTestCase {
    func testRunNameRule() {
        for good in ["fashion-mnist", "cifar100", "rkanet_e_101", "resnet18.small", "A-1_b.2"] {
            XCTAssertNil(RunName.problem(good), good)
        }
        for bad in ["", ".", "..", "../x", "a/b", "/abs", ".hidden", "a b", "é", "a\u{0}b", String(repeating: "a", count: 101)] {
            XCTAssertNotNil(RunName.problem(bad), bad)
        }
    }

    func testSuiteNameAndIdsAreCheckedInTheSuiteFile() throws {
        let yaml = """
        suite: SUITE
        title: t
        source: s
        dataset: {name: fashion-mnist}
        protocol: {epochs: 1, batch_size: 8, optimizer: {name: sgd, lr: 0.1, momentum: 0.9, nesterov: true, weight_decay: 5.0e-4}, schedule: {name: warmup_cosine, warmup_epochs: 0, min_lr: 1.0e-5}, label_smoothing: 0.1, augment: {hflip: true}}
        seeds: [0]
        experiments:
          - {id: ID, model: resnet18}
        """
        for (suite, id, key) in [("../x", "a", "suite"), ("ok", "..", "experiments[0].id"), ("ok", "a/b", "experiments[0].id")] {
            let text = yaml.replacingOccurrences(of: "SUITE", with: suite).replacingOccurrences(of: "ID", with: id)
            XCTAssertThrowsError(try Suite.decode(yaml: text, file: "x.yaml"), "\(suite) \(id)") { error in
                XCTAssertEqual((error as? SuiteError)?.key, key, "\(error)")
            }
        }
        XCTAssertThrowsError(try SuiteLibrary.find("../x", in: URL(fileURLWithPath: "/tmp"))) { error in
            XCTAssertTrue("\(error)".contains("'../x'"), "\(error)")
        }
    }

    func testOutputGuardComparesFilesNotNames() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("guard-\(getpid())-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let input = dir.appendingPathComponent("w.h5")
        try Data("weights".utf8).write(to: input)
        let link = dir.appendingPathComponent("link.h5")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: input)
        let hard = dir.appendingPathComponent("hard.h5")
        XCTAssertEqual(Glibc.link(input.path, hard.path), 0)
        for same in [input, link, hard, URL(fileURLWithPath: dir.path + "/./w.h5")] {
            XCTAssertThrowsError(try OutputGuard.check(output: same, option: "--output", inputs: [(input, "--weights file")]), same.path) {
                XCTAssertTrue("\($0)".contains("--weights file") && "\($0)".contains("Pass another --output"), "\($0)")
            }
        }
        XCTAssertNoThrow(try OutputGuard.check(output: dir.appendingPathComponent("new.h5"), option: "--output", inputs: [(input, "w")]))
    }

    func testSizeLimitsNameTheLimitAndTheFix() {
        let names = (classes: "--classes", inChannels: "--in-channels", batch: "--batch", side: "--size")
        XCTAssertNoThrow(try SizeLimits.checkModelInput(classes: 1000, inChannels: 3, batch: 32, side: 224, names: names))
        for (classes, channels, batch, side, word) in [(1000, 3, 1, 100_000, "--size"), (2_000_000_000, 3, 1, 32, "--classes"),
                                                       (10, 1_000, 1, 32, "--in-channels"), (10, 3, 1 << 40, 32, "--batch"),
                                                       (10, 64, 65_536, 4096, "--batch")] {
            XCTAssertThrowsError(try SizeLimits.checkModelInput(classes: classes, inChannels: channels, batch: batch, side: side, names: names)) {
                XCTAssertTrue("\($0)".contains(word) && "\($0)".contains("pass"), "\($0)")
            }
        }
    }
}
