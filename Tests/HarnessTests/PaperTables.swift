import Foundation
import XCTest
import TestSupport
import Zoo

/// The published tables in `Reports/published/*.csv` (see its README): read at test time, so the
/// suites are compared with the transcription of the README, not with a copy kept in the tests.
struct PaperTable {
    /// One CSV row: column name → text as printed.
    typealias Row = [String: String]

    /// The suite file this table belongs to.
    let suite: String
    /// Its CSV file name.
    let file: String
    /// Rows in the CSV's (the paper's) order.
    let rows: [Row]

    /// Suite name → primary CSV, the five tables of the README.
    static let files: [(suite: String, file: String)] = [
        ("cifar100", "cifar100.csv"), ("tiny-imagenet", "tiny_imagenet.csv"), ("imagenet", "imagenet.csv"),
        ("food101", "food101.csv"), ("coco", "coco.csv"),
    ]

    /// The folder holding the tables, inside the repository.
    static var folder: URL { packageRoot.appendingPathComponent("Reports/published", isDirectory: true) }

    /// Loads every table.
    /// - Throws: a read or parse error, also when a file is missing: the tables are part of the
    ///   repository, so a missing one is a defect, never a reason to skip.
    static func all() throws -> [PaperTable] {
        try files.map { try PaperTable(suite: $0.suite, file: $0.file, folder: folder) }
    }

    /// Reads one CSV.
    init(suite: String, file: String, folder: URL) throws {
        self.suite = suite
        self.file = file
        let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
        let records = PaperTable.parseCSV(text)
        guard let header = records.first else { throw CocoaError(.fileReadCorruptFile) }
        rows = records.dropFirst().filter { $0 != [""] }.map { fields in
            Dictionary(uniqueKeysWithValues: zip(header, fields + Array(repeating: "", count: max(0, header.count - fields.count))))
        }
    }

    /// RFC 4180 CSV: fields separated by ',', quoted with '"' (doubled inside), records by newlines.
    static func parseCSV(_ text: String) -> [[String]] {
        var records: [[String]] = [], record: [String] = [], field = ""
        var quoted = false
        var chars = Array(text.replacingOccurrences(of: "\r\n", with: "\n"))[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" {
                    if chars.first == "\"" { field.append("\""); chars.removeFirst() } else { quoted = false }
                } else {
                    field.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                record.append(field); field = ""
            } else if c == "\n" {
                record.append(field); records.append(record); record = []; field = ""
            } else {
                field.append(c)
            }
        }
        if !field.isEmpty || !record.isEmpty { record.append(field); records.append(record) }
        return records
    }
}

/// Printed model names → model specs (docs/design.md grammar), written independently of the suites.
enum PaperNames {
    /// Plain backbones as printed → Zoo backbone names.
    static let backbones: [String: String] = [
        "ResNet-50": "resnet50", "ResNet-101": "resnet101", "ResNet-152": "resnet152", "ResNet-101-D": "resnet101d",
        "WRN-101-2": "wide_resnet101_2", "ResNeXt-50": "resnext50_32x4d", "ResNeXt-101": "resnext101_32x8d",
        "RegNetY-3.2GF": "regnet_y_3_2gf", "RegNetY-8GF": "regnet_y_8gf", "RegNetY-32GF": "regnet_y_32gf",
        "DenseNet-121": "densenet121", "DenseNet-161": "densenet161", "DenseNet-169": "densenet169",
        "DenseNet-201": "densenet201", "SENet-50": "seresnet50", "ELA-L-50": "ela_l_resnet50",
    ]

    /// The spec a printed name stands for, and the printed name of its plain backbone (nil for a
    /// plain backbone). RKANet-X = ResNet-X, RKANeXt-X = ResNeXt-X, RKAN-Y = Y (+ RKAN in stage 4);
    /// `-E` = stages 3 and 4; `-k×L` = RKAN-L with `inv=k`; a trailing `*` only marks RKAN rows.
    static func spec(printed: String) -> (spec: String, backbone: String?)? {
        var name = printed.hasSuffix("*") ? String(printed.dropLast()) : printed
        if let plain = backbones[name] { return (plain, nil) }
        var options: [String] = []
        if let range = name.range(of: #"-\d×L$"#, options: .regularExpression) {
            options.append("inv=\(name[name.index(after: range.lowerBound)])")
            name.removeSubrange(range)
        }
        let plain: String
        if name.hasPrefix("RKANet-E-") {
            options.insert("stages=3/4", at: 0)
            plain = "ResNet-" + name.dropFirst("RKANet-E-".count)
        } else if name.hasPrefix("RKANet-") {
            plain = "ResNet-" + name.dropFirst("RKANet-".count)
        } else if name.hasPrefix("RKANeXt-") {
            plain = "ResNeXt-" + name.dropFirst("RKANeXt-".count)
        } else if name.hasPrefix("RKAN-") {
            plain = String(name.dropFirst("RKAN-".count))
        } else {
            return nil
        }
        guard let backbone = backbones[plain] else { return nil }
        return (backbone + "+rkan" + (options.isEmpty ? "" : "(" + options.joined(separator: ",") + ")"), plain)
    }
}
