import Foundation
import Engine
import Zoo
import Datasets
import COCO

/// `rkan-repro list`.
public enum SuiteListing {
    public static func text(suite name: String?, search: SuiteSearchPath, dataFolder: URL?) throws -> String {
        let names = name.map { [$0] } ?? search.names
        guard !names.isEmpty else {
            throw HarnessError.io(path: search.considered.map(\.path).joined(separator: ", "),
                                  detail: "no suite files (*.yaml) in any of these folders; pass --suites DIR (or set RKAN_SUITES) to a folder of suite files")
        }
        var lines: [String] = []
        for n in names {
            let s = try SuiteLibrary.find(n, in: try search.folder(for: n))
            let data = dataStatus(s.dataset.name, folder: dataFolder)
            lines.append("\(s.suite): \(s.title): \(s.experiments.count) rows, profiles \(s.profileNames.joined(separator: "/")), seeds \(s.seeds.map(String.init).joined(separator: ",")), data \(data)")
            if name != nil {
                for e in s.experiments {
                    var l = "  \(e.id): \(e.model) [\(e.role.rawValue)\(e.baseline.map { " vs \($0)" } ?? "")]"
                    if let p = e.paper {
                        l += " paper:" + [p.top1.map { " top-1 \($0)" }, p.imgPerSec.map { " \($0) img/s" }, p.paramsM.map { " \($0)M params" }]
                            .compactMap { $0 }.joined(separator: ",")
                    }
                    lines.append(l)
                }
            }
        }
        return lines.joined(separator: "\n")
    }

    /// "present (path)" or "missing (what to get)".
    static func dataStatus(_ dataset: DatasetName, folder: URL?) -> String {
        if dataset.isDetection {
            guard let folder else { return "missing (give --data DIR with COCO 2017; profiles smoke and nightly make their own shapes data)" }
            let dir = COCOCheck.locate(folder)
            let present = ["annotations/instances_train2017.json", "annotations/instances_val2017.json"]
                .allSatisfy { FileManager.default.fileExists(atPath: dir.appendingPathComponent($0).path) }
            return present ? "present (\(dir.path))" : "missing (no annotations/instances_{train,val}2017.json under \(folder.path))"
        }
        do {
            let d = try dataset.load(folder: folder, split: .test)
            return "present (\(d.count) test images)"
        } catch {
            return "missing"
        }
    }
}
