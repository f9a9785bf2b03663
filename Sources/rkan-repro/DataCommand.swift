import ArgumentParser
import COCO
import Datasets
import Foundation
import Harness

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "data", abstract: "Dataset utilities.",
                                                    subcommands: [DataCheck.self, DataMake.self])
}

struct DataCheck: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check", abstract: "Verify a dataset's files and counts.")
    @Argument(help: "Dataset name (fashion-mnist, mnist, cifar10, cifar100, svhn, tiny-imagenet, food101, imagenet, coco).") var name: String
    @Option(help: "Data folder.") var data: String?
    @Flag(help: "Also decode every image (JPEG datasets).") var decode = false

    func run() throws {
        try runReportingErrors {
            if name == "coco" {
                let folder = data.map { URL(fileURLWithPath: $0, isDirectory: true) }
                try DatasetName.checkDataFolder(folder, for: name)
                let r = COCOCheck.run(root: folder ?? DataRoot.default, decode: decode)
                print(r.description)
                return r.ok ? 0 : 1
            }
            let r = try DataChecker.check(name, folder: data.map { URL(fileURLWithPath: $0, isDirectory: true) }, decode: decode)
            print(r.text)
            return r.ok ? 0 : 1
        }
    }
}

/// `rkan-repro data make shapes`: the generated COCO-format detection data set.
struct DataMake: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make", abstract: "Generate a data set.",
        discussion: """
        shapes: COCO 2017 layout (OUT/train2017, OUT/val2017, OUT/annotations/instances_{train,val}2017.json) with \
        shapes of six categories on textured backgrounds, polygon, RLE and crowd annotations; deterministic from --seed. \
        --images is the number of train images; val gets a fifth as many (at least one).
        """)
    @Argument(help: "What to make: shapes.") var name: String
    @Option(help: "Output folder (must not hold a data set yet).") var out: String
    @Option(help: "Seed.") var seed: UInt64 = 0
    @Option(help: "Train images (1…200000).") var images: Int = 2000
    @Option(help: "Image side in pixels (32…1024).") var size: Int = 128

    func validate() throws {
        guard name == "shapes" else { throw ValidationError("data make: unknown data set '\(name)'; the one rkan-repro makes is 'shapes'") }
        guard (1...200_000).contains(images) else { throw ValidationError("--images must be 1…200000, got \(images)") }
        guard (32...1024).contains(size) else { throw ValidationError("--size must be 32…1024, got \(size)") }
    }

    func run() throws {
        try runReportingErrors {
            let summary = try ShapesDataset.generate(out: URL(fileURLWithPath: out, isDirectory: true), seed: seed, images: images, size: size)
            print("shapes: \(out): \(summary)")
            return 0
        }
    }
}
