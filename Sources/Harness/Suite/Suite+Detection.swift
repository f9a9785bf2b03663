import Zoo

extension Suite {
    /// Whether the suite is a detection table: its dataset is COCO or a row's model is a detector
    /// (`maskrcnn(…)`). Its runs carry AP metrics and detector FPS instead of top-1 and img/s
    /// (docs/design.md, "Detection run files"), and `report` and `check` read them so.
    public var isDetection: Bool { Suite.isDetection(dataset: dataset, experiments: experiments) }

    static func isDetection(dataset: SuiteDataset, experiments: [SuiteExperiment]) -> Bool {
        dataset.name.isDetection || experiments.contains { $0.model.detector != nil }
    }

    /// A classification suite's rows publish top-1, a detection suite's rows AP: a value of the
    /// other kind would never be printed, so it is refused where it is written.
    static func checkPaperKinds(_ experiments: [SuiteExperiment], items: [SuiteNode], detection: Bool) throws {
        for (experiment, item) in zip(experiments, items) {
            guard let paper = experiment.paper else { continue }
            let map = try item.mapping(allowed: SuiteSchema.experiment)
            let paperNode = map.child("paper") ?? item
            let paperMap = try paperNode.mapping(allowed: SuiteSchema.paper)
            if detection, paper.top1 != nil {
                throw (paperMap.child("top1") ?? paperNode).error(
                    .invalidValue, "top1 in a detection suite (dataset coco or a maskrcnn(…) model), whose reports print AP",
                    hint: "Give the published detection values as ap_box, ap50_box, ap_mask and ap50_mask (percent)")
            }
            if !detection, paper.hasDetectionValues {
                let key = ["ap_box", "ap50_box", "ap_mask", "ap50_mask"].first { paperMap.child($0) != nil } ?? "ap_box"
                throw (paperMap.child(key) ?? paperNode).error(
                    .invalidValue, "\(key) in a classification suite, whose reports print top-1",
                    hint: "Use top1 here, or make the suite a detection suite (dataset coco, models maskrcnn(…))")
            }
        }
    }
}
