import Datasets
import Engine
import Foundation

/// One split of a COCO-layout data set as the reference notebook feeds it to the detector:
/// torchvision's `CocoDetection` (images in the file's order, their annotations in file order)
/// then `coco_transform`: the notebook's targets, the `load_weights` augmentation for training,
/// ImageNet normalisation.
///
/// The notebook's one surprise is kept: an image none of whose annotations survive the filter
/// (crowd only, other categories, thin boxes, or none at all) is returned as an all-zero
/// `3 × h × w` tensor with empty targets, without augmentation or normalisation
/// (`return torch.zeros(3, h, w), {...}`), in training and in evaluation alike.
public final class COCODetectionData: @unchecked Sendable {
    public let instances: Instances
    public let index: Instances.ImageIndex
    /// The folder of the split's images (`DIR/train2017`).
    public let imageFolder: URL

    /// Reads `DIR/annotations/instances_<split>.json` (or under `DIR/coco`).
    /// - Parameter split: `train2017` or `val2017`.
    public init(root: URL, split: String) throws {
        let dir = COCOCheck.locate(root)
        instances = try Instances.read(dir.appendingPathComponent("annotations/instances_\(split).json"))
        index = instances.imageIndex()
        imageFolder = dir.appendingPathComponent(split, isDirectory: true)
    }

    public var count: Int { instances.images.count }

    /// One input: `(height, width, 3)` Float pixels (normalised, or all zeros; see above) and
    /// the targets (boxes `[x1, y1, x2, y2]` in the output image's pixels).
    public struct Sample: Sendable {
        public var width: Int
        public var height: Int
        public var pixels: [Float]
        public var target: NotebookTargets.Target
    }

    /// Image i with its targets.
    /// - Parameter augmentation: the Philox stream and draw index for training; nil for
    ///   evaluation (no augmentation).
    /// - Throws: `DatasetError` for an image that cannot be read or decoded, `COCOError.mask`
    ///   for a broken RLE.
    public func sample(_ i: Int, augmentation: (Philox, UInt64)?) throws -> Sample {
        let image = instances.images[i]
        let url = imageFolder.appendingPathComponent(image.fileName)
        let (w, h, pixels) = try JPEG.decode(contentsOf: url)
        let target = try NotebookTargets.target(instances, index: index, imageAt: i, height: h, width: w)
        if target.count == 0 {
            return Sample(width: w, height: h, pixels: [Float](repeating: 0, count: w * h * 3), target: target)
        }
        var s = NotebookAugment.Sample(width: w, height: h, pixels: pixels, target: target)
        if let (philox, draw) = augmentation {
            s = NotebookAugment.apply(NotebookAugment.choose(philox, index: draw), to: s)
        }
        return Sample(width: s.width, height: s.height, pixels: NotebookAugment.normalize(s.pixels), target: s.target)
    }
}
