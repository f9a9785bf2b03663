import ArgumentParser
import COCO
import Foundation

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eval", abstract: "Score results files.",
                                                    subcommands: [EvalCOCO.self])
}

/// `rkan-repro eval coco`: pycocotools' COCOeval on any COCO results file.
struct EvalCOCO: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coco",
        abstract: "COCO detection metrics (pycocotools' COCOeval) of a results file.",
        discussion: """
        Prints the twelve summary numbers in pycocotools' `stats` order and units (fractions, -1 where \
        undefined): AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl. Crowd regions are \
        ignored regions, as in the official evaluation.
        """)

    @Option(help: "Ground truth: a COCO instances JSON file.") var annotations: String
    @Option(help: "Detections: a COCO results JSON array (image_id, category_id, score, bbox and/or segmentation).") var results: String
    @Option(help: "bbox or segm.") var iouType: String = "bbox"
    @Flag(help: "Print JSON with full precision.") var json = false
    @Flag(help: "Also print per-category AP and AR@100 (area all, 100 detections).") var perClass = false

    func validate() throws {
        guard COCOEvaluator.IoUType(rawValue: iouType) != nil else {
            throw ValidationError("--iou-type must be bbox or segm, got '\(iouType)'")
        }
    }

    func run() throws {
        try runReportingErrors {
            let type = COCOEvaluator.IoUType(rawValue: iouType)!
            let gt = try Instances.read(URL(fileURLWithPath: annotations))
            let dt = try Detections.read(URL(fileURLWithPath: results))
            let e = try COCOEvaluator.evaluate(groundTruth: gt, detections: dt, iouType: type, resultsFile: results)
            print(json ? e.json(perClass: perClass, categories: gt.categories) : e.text(perClass: perClass, categories: gt.categories))
            return 0
        }
    }
}
