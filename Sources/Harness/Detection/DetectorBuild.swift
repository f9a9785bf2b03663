import Engine
import Zoo
import Detection

/// The detector of a `maskrcnn(…)` spec as a run trains it: the reference's Mask R-CNN
/// (`MaskRCNN`) with 81 classes (the notebook's 80 categories and the background), the
/// transform's shorter side at the run's image size and its longer side at most
/// `int(size · 1.666)` (RKAN_RCNN's `min_size = input_size`, `max_size = int(input_size * 1.666)`).
///
/// A profile's `width` scales the heads with the backbone (`MaskRCNN(spec:classes:)`: FPN channels
/// 256·w, the box head's representation 1024·w and the mask head's 256·w, at least 8 each); at
/// width 1 they are the reference's.
public enum DetectorBuild {
    /// Object classes plus the background: the notebook's `num_classes = len(coco_classes) + 1`.
    public static let cocoClasses = 81

    /// Builds (declares, does not initialise) the detector of `spec` for images of shorter side `size`.
    /// - Throws: `SpecError` for a spec without a detector or a backbone without a detection form.
    public static func make(_ spec: ModelSpec, size: Int, classes: Int = cocoClasses, context: EngineContext) throws -> MaskRCNN {
        guard spec.detector == .maskrcnn else {
            throw SpecError(spec: spec.description, problem: "a detection suite trains detectors: write the row's model as maskrcnn(\(spec.classifierSpec))")
        }
        let m = try MaskRCNN(spec: spec, classes: classes, context: context)
        m.transform.minSize = size
        m.transform.maxSize = Int(Double(size) * 1.666)
        return m
    }
}
