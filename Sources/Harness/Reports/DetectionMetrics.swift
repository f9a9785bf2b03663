/// The metric and bench names of a detection run file (docs/design.md, "Detection run files"),
/// and how a report reads the published numbers from them.
public enum DetectionMetrics {
    /// The twelve COCO summary numbers of one IoU type, in pycocotools' order.
    public static let summaryNames = ["ap", "ap50", "ap75", "aps", "apm", "apl", "ar1", "ar10", "ar100", "ars", "arm", "arl"]
    /// The evaluations a run file holds: the notebook's (torchmetrics over the filtered targets)
    /// and the official one (pycocotools' COCOeval on the unfiltered annotation file).
    public enum Evaluation: String, Sendable, CaseIterable {
        case notebook = "val_"
        case official = "official_"
    }
    /// Box or mask.
    public enum IoUType: String, Sendable, CaseIterable {
        case bbox, segm
    }

    /// `val_bbox_ap`, `official_segm_ap50`, ...
    public static func name(_ evaluation: Evaluation, _ type: IoUType, _ summary: String) -> String {
        "\(evaluation.rawValue)\(type.rawValue)_\(summary)"
    }

    /// Every per-epoch metric a finished detection run file holds.
    public static let allMetrics: [String] = {
        let losses = ["train_loss", "train_loss_classifier", "train_loss_box_reg", "train_loss_mask",
                      "train_loss_objectness", "train_loss_rpn_box_reg", "skipped_batches", "lr", "epoch_seconds"]
        var evaluations: [String] = []
        for e in Evaluation.allCases { for t in IoUType.allCases { for s in summaryNames { evaluations.append(name(e, t, s)) } } }
        return losses + evaluations
    }()

    /// Inference FPS (batch 1, one 3×S×S image), one value per round.
    public static let inferFPS = "infer_fps"
    /// An RKAN detector's FPS over its baseline detector's, one value per alternated round.
    public static let inferFPSRatio = "infer_fps_ratio_vs_baseline"
}

/// The numbers a detection table prints for one run, read the way the notebook reports them
/// (22e50367:training.ipynb `validate`): the best box AP@[.5:.95] over the epochs and, separately,
/// the best mask AP@[.5:.95], each at the first epoch that reaches it; AP@.5 of the same epoch as
/// its AP. The official evaluation is read at the same two epochs, so both columns describe the
/// same weights. pycocotools' −1 (undefined) and non-finite values never count as a best and
/// print as missing.
public struct DetectionScores: Equatable, Sendable {
    /// 1-based epoch of the best notebook box AP, and of the best notebook mask AP.
    public var boxEpoch: Int
    public var maskEpoch: Int?
    /// Notebook evaluation, percent.
    public var apBox: Double
    public var ap50Box: Double?
    public var apMask: Double?
    public var ap50Mask: Double?
    /// Official evaluation at the same epochs, percent (nil: not recorded or undefined).
    public var officialAPBox: Double?
    public var officialAP50Box: Double?
    public var officialAPMask: Double?
    public var officialAP50Mask: Double?

    /// The scores of a run's per-epoch metrics; nil without a defined notebook box AP.
    public init?(metrics: [String: [Double]]) {
        func series(_ e: DetectionMetrics.Evaluation, _ t: DetectionMetrics.IoUType, _ s: String) -> [Double] {
            metrics[DetectionMetrics.name(e, t, s)] ?? []
        }
        func defined(_ values: [Double], _ epoch: Int?) -> Double? {
            guard let epoch, epoch >= 1, epoch <= values.count else { return nil }
            let v = values[epoch - 1]
            return v.isFinite && v >= 0 ? v : nil
        }
        /// First epoch of the largest defined value.
        func best(_ values: [Double]) -> Int? {
            var bestEpoch: Int?, bestValue = -Double.infinity
            for (i, v) in values.enumerated() where v.isFinite && v >= 0 && v > bestValue {
                bestValue = v
                bestEpoch = i + 1
            }
            return bestEpoch
        }
        let boxAP = series(.notebook, .bbox, "ap"), maskAP = series(.notebook, .segm, "ap")
        guard let boxEpoch = best(boxAP) else { return nil }
        let maskEpoch = best(maskAP)
        self.boxEpoch = boxEpoch
        self.maskEpoch = maskEpoch
        apBox = boxAP[boxEpoch - 1]
        ap50Box = defined(series(.notebook, .bbox, "ap50"), boxEpoch)
        apMask = defined(maskAP, maskEpoch)
        ap50Mask = defined(series(.notebook, .segm, "ap50"), maskEpoch)
        officialAPBox = defined(series(.official, .bbox, "ap"), boxEpoch)
        officialAP50Box = defined(series(.official, .bbox, "ap50"), boxEpoch)
        officialAPMask = defined(series(.official, .segm, "ap"), maskEpoch)
        officialAP50Mask = defined(series(.official, .segm, "ap50"), maskEpoch)
    }
}

extension RunSummary {
    /// The detection numbers of this run (nil: no defined `val_bbox_ap`).
    public var detectionScores: DetectionScores? { DetectionScores(metrics: metrics) }
}
