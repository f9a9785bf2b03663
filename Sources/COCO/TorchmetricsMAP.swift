/// The published table's metric: torchmetrics' `MeanAveragePrecision` (1.4, pycocotools backend,
/// `class_metrics=True`, max detections 1/10/100) as the reference notebook calls it, once with
/// `iou_type="bbox"` and once with `iou_type="segm"`, on the notebook's filtered targets and the
/// model's outputs (masks thresholded at 0.5).
///
/// torchmetrics hands COCOeval datasets it builds itself (`_get_coco_format`), which differ from
/// an official evaluation in these points, all reproduced here:
/// - images are numbered by position; every image counts for `bbox`, but for `segm` an image
///   without ground-truth masks is left out, and so are the detections on it;
/// - no crowd regions (the notebook's targets have none) and areas computed, not read: the box's
///   `w·h` for `bbox`, the mask's pixel count for `segm`, for ground truths and detections alike
///   (an official results file gets the box's area in both);
/// - boxes are float32 `[x1, y1, x2, y2]`, turned into `[x, y, w, h]` in float32 (torchvision's
///   `box_convert`), scores float32;
/// - the IoU and recall thresholds are float32 (`Parameters.torchmetrics`);
/// - categories are the labels that occur (in targets or detections); per-class AP and AR@100
///   are COCOeval run on one category at a time, which gives the same numbers as
///   `Evaluation.perCategory`.
public enum TorchmetricsMAP {
    /// One image's targets and the model's output for it.
    public struct Sample: Sendable {
        /// `(n, 4)` boxes `[x1, y1, x2, y2]`, labels, masks (for `segm`).
        public var targetBoxes: [Float]
        public var targetLabels: [Int]
        public var targetMasks: [RLE]
        /// `(m, 4)` boxes, scores, labels, masks (already thresholded) of the detections.
        public var boxes: [Float]
        public var scores: [Float]
        public var labels: [Int]
        public var masks: [RLE]

        public init(targetBoxes: [Float], targetLabels: [Int], targetMasks: [RLE] = [],
                    boxes: [Float], scores: [Float], labels: [Int], masks: [RLE] = []) {
            self.targetBoxes = targetBoxes; self.targetLabels = targetLabels; self.targetMasks = targetMasks
            self.boxes = boxes; self.scores = scores; self.labels = labels; self.masks = masks
        }
    }

    /// `[x, y, w, h]` of box k (float32 subtraction, as `box_convert`).
    static func xywh(_ b: [Float], _ k: Int) -> [Double] {
        let x1 = b[4 * k], y1 = b[4 * k + 1], x2 = b[4 * k + 2], y2 = b[4 * k + 3]
        return [Double(x1), Double(y1), Double(x2 - x1), Double(y2 - y1)]
    }

    /// The twelve numbers and per-class AP / AR@100 as the notebook's metric computes them.
    /// - Throws: `COCOError.mask` when a sample's masks do not match its labels in number.
    public static func evaluate(_ samples: [Sample], iouType: COCOEvaluator.IoUType) throws -> COCOEvaluator.Evaluation {
        var gt = Instances(file: "targets")
        var dt = Detections()
        var labels = Set<Int>()
        var nextID: Int64 = 1
        for (i, s) in samples.enumerated() {
            precondition(s.targetBoxes.count == 4 * s.targetLabels.count && s.boxes.count == 4 * s.labels.count
                         && s.scores.count == s.labels.count, "TorchmetricsMAP: sample \(i): boxes, scores and labels differ in number")
            labels.formUnion(s.targetLabels)
            labels.formUnion(s.labels)
            if iouType == .segm {
                guard s.targetMasks.count == s.targetLabels.count, s.masks.count == s.labels.count else {
                    throw COCOError.mask("sample \(i): \(s.targetMasks.count) target masks for \(s.targetLabels.count) labels, \(s.masks.count) masks for \(s.labels.count) detections")
                }
                // An image without target masks is not an image of the evaluation.
                guard let first = s.targetMasks.first else { continue }
                gt.images.append(.init(id: Int64(i), fileName: "", height: first.height, width: first.width))
            } else {
                gt.images.append(.init(id: Int64(i), fileName: "", height: 1, width: 1))
            }
            for k in 0..<s.targetLabels.count {
                let box = xywh(s.targetBoxes, k)
                gt.ids.append(nextID); nextID += 1
                gt.imageIDs.append(Int64(i))
                gt.categoryIDs.append(Int64(s.targetLabels[k]))
                gt.isCrowd.append(false)
                gt.boxes.append(contentsOf: box)
                if iouType == .segm {
                    let m = s.targetMasks[k]
                    gt.areas.append(Double(m.area))
                    let lo = gt.rleCounts.count
                    gt.rleCounts.append(contentsOf: m.counts)
                    gt.segmentationKinds.append(.uncompressedRLE)
                    gt.segmentationRanges.append(lo..<gt.rleCounts.count)
                    gt.rleSizes.append((Int32(m.height), Int32(m.width)))
                } else {
                    gt.areas.append(box[2] * box[3])
                    gt.segmentationKinds.append(.none)
                    gt.segmentationRanges.append(0..<0)
                    gt.rleSizes.append((0, 0))
                }
            }
            for k in 0..<s.labels.count {
                if iouType == .segm {
                    let m = s.masks[k]
                    dt.append(imageID: Int64(i), categoryID: Int64(s.labels[k]), score: Double(s.scores[k]), box: nil,
                              segmentation: .rle(m), area: Double(m.area))
                } else {
                    let box = xywh(s.boxes, k)
                    dt.append(imageID: Int64(i), categoryID: Int64(s.labels[k]), score: Double(s.scores[k]), box: box, area: box[2] * box[3])
                }
            }
        }
        gt.categories = labels.sorted().map { .init(id: Int64($0), name: String($0)) }
        return try COCOEvaluator.evaluate(groundTruth: gt, detections: dt, iouType: iouType, parameters: .torchmetrics,
                                          skipUnknownImages: true)
    }
}
