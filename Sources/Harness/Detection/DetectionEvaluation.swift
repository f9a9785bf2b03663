import Foundation
import Engine
import COCO
import Detection

/// The evaluation after each epoch of a detection run, as the reference notebook scores the
/// table (22e50367:training.ipynb): detections of the validation images (eval mode, batches of
/// `batchSize` padded together as its DataLoader batches them), masks thresholded at 0.5,
/// torchmetrics' `MeanAveragePrecision` (`TorchmetricsMAP`) over the notebook's filtered targets,
/// box and mask. Beside it, labelled `official_`, pycocotools' COCOeval of the same detections
/// against the unfiltered annotation file (crowd regions as ignore, categories as COCO ids),
/// restricted to the evaluated images.
///
/// Metric names: `val_` or `official_`, then `bbox_` or `segm_`, then the twelve summary numbers
/// (`ap`, `ap50`, `ap75`, `aps`, `apm`, `apl`, `ar1`, `ar10`, `ar100`, `ars`, `arm`, `arl`), in
/// percent (−1 where COCOeval reports −1: no ground truth in that range).
struct DetectionEvaluation {
    let data: DetectionData
    let batchSize: Int

    /// A non-finite detection (1-based validation batch).
    struct Divergence: Error { var detail: String }

    static let statNames = COCOEvaluator.statNames.map { $0.lowercased() }

    /// The metric names in record order.
    static var metricNames: [String] {
        ["val", "official"].flatMap { s in ["bbox", "segm"].flatMap { t in statNames.map { "\(s)_\(t)_\($0)" } } }
    }

    /// - Parameter injectNaN: test hook: the first image's first score becomes NaN.
    /// - Returns: name and value of every metric, in `metricNames` order.
    /// - Throws: `Divergence` for a non-finite box, score or mask; data and engine errors.
    func run(_ detector: MaskRCNN, injectNaN: Bool = false, progress: (Int, Int) -> Void = { _, _ in }) throws -> [(String, Double)] {
        var samples: [TorchmetricsMAP.Sample] = []
        var official = COCO.Detections()
        var evaluated = Set<Int64>()
        let batches = data.valBatches(batchSize: batchSize)
        for (b, indices) in batches.enumerated() {
            let inputs = try data.samples(indices, of: data.val, augment: nil)
            var found = try detector.detect(images: inputs.map { DetectionData.detectorInput($0).image })
            if injectNaN && b == 0, found[0].detections.count > 0 { found[0].detections.scores[0] = .nan }
            for (s, d) in zip(inputs, found) {
                let det = d.detections
                guard det.boxes.allSatisfy(\.isFinite) && det.scores.allSatisfy(\.isFinite) && d.masks.allSatisfy(\.isFinite) else {
                    throw Divergence(detail: "validation detections (non-finite boxes, scores or masks), validation batch \(b + 1)")
                }
                let (h, w) = (d.height, d.width)
                let plane = h * w
                let masks = (0..<det.count).map { k in
                    RLE(rowMajor: (0..<plane).map { d.masks[k * plane + $0] > 0.5 ? 1 : 0 }, height: h, width: w)
                }
                let t = s.target
                let targetMasks = (0..<t.count).map { k in RLE(rowMajor: Array(t.masks[(k * plane)..<((k + 1) * plane)]), height: h, width: w) }
                samples.append(TorchmetricsMAP.Sample(targetBoxes: t.boxes.map { Float($0) }, targetLabels: t.labels, targetMasks: targetMasks,
                                                      boxes: det.boxes, scores: det.scores, labels: det.labels, masks: masks))
                evaluated.insert(t.imageID)
                for k in 0..<det.count {
                    let b = det.boxes[(4 * k)..<(4 * k + 4)].map { $0 }
                    official.append(imageID: t.imageID, categoryID: NotebookTargets.cocoCategoryIDs[det.labels[k] - 1], score: Double(det.scores[k]),
                                    box: [Double(b[0]), Double(b[1]), Double(b[2] - b[0]), Double(b[3] - b[1])], segmentation: .rle(masks[k]))
                }
            }
            progress(b + 1, batches.count)
        }
        func percent(_ stats: [Double]) -> [Double] { stats.map { $0 >= 0 ? 100 * $0 : $0 } }
        var out: [(String, Double)] = []
        for iou in [COCOEvaluator.IoUType.bbox, .segm] {
            let e = try TorchmetricsMAP.evaluate(samples, iouType: iou)
            out += zip(Self.statNames, percent(e.stats)).map { ("val_\(iou.rawValue)_\($0)", $1) }
        }
        for iou in [COCOEvaluator.IoUType.bbox, .segm] {
            var dt = official
            if iou == .bbox { dt.segmentations = dt.segmentations.map { _ in nil } } else { dt.boxes = dt.boxes.map { _ in nil } }
            let e = try COCOEvaluator.evaluate(groundTruth: data.val.instances, detections: dt, iouType: iou, images: evaluated)
            out += zip(Self.statNames, percent(e.stats)).map { ("official_\(iou.rawValue)_\($0)", $1) }
        }
        return out
    }
}
