import Foundation
import Datasets

/// `rkan-repro data check`: loads both splits (every reader validates headers, sizes and label
/// ranges) and compares the counts with the official ones.
public enum DataChecker {
    static let expected: [String: (train: Int, test: Int)] = [
        "fashion-mnist": (60_000, 10_000), "mnist": (60_000, 10_000), "cifar10": (50_000, 10_000), "cifar100": (50_000, 10_000),
    ]

    public static func check(_ name: String, folder: URL?) throws -> (text: String, ok: Bool) {
        guard let info = DatasetRegistry.info(name) else {
            throw HarnessError.unsupported(what: "dataset '\(name)'", detail: "known names: \(expected.keys.sorted().joined(separator: ", "))")
        }
        var lines: [String] = [], ok = true
        for split in [Split.train, .test] {
            let d = try DatasetRegistry.load(name, folder: folder, split: split)
            let want = split == .train ? expected[name]?.train : expected[name]?.test
            var classCounts = [Int](repeating: 0, count: info.classes)
            for l in d.labels { classCounts[l] += 1 }
            let present = classCounts.filter { $0 > 0 }.count
            let countOK = want.map { $0 == d.count } ?? true
            ok = ok && countOK && present == info.classes
            lines.append("\(name) \(split.rawValue): \(d.count) images\(want.map { " (expected \($0))" } ?? ""), \(present)/\(info.classes) classes, \(d.height)×\(d.width)×\(d.channels)" + (countOK && present == info.classes ? " ✓" : " ✗"))
        }
        return (lines.joined(separator: "\n"), ok)
    }
}
