import Foundation
import Engine
import Datasets
import COCO
import Detection

/// The two splits of a COCO-layout folder as a detection run reads them (`COCODetectionData`:
/// the notebook's targets, its `load_weights` augmentation for training, ImageNet normalisation),
/// with the profile's subsets and the epoch's order.
///
/// - Subsets: `train_subset` / `test_subset` take the first N of `Philox(0, .subset, index: 0 / 1)`'s
///   permutation of the split, sorted into file order (the same images for every seed and row,
///   as classification subsets).
/// - Order: epoch e visits the training subset in `Philox(seed, .shuffle, index: e).permutation`
///   (the reference's `DataLoader(shuffle=True)`, keyed instead of drawn); the last batch may be
///   smaller (`drop_last=False`). Validation runs in file order.
/// - Augmentation of training image i in epoch e: `NotebookAugment` from
///   `Philox(seed, .augment, index: e)` at draw `i · NotebookAugment.drawsPerImage`.
struct DetectionData {
    let folder: URL
    let train: COCODetectionData
    let val: COCODetectionData
    let trainIndices: [Int]
    let valIndices: [Int]
    /// Threads that decode a batch's images (each image is independent: any count gives the same bytes).
    let workers: Int

    /// Reads both annotation files (`DIR/annotations/instances_{train,val}2017.json`).
    /// - Throws: `COCOError` naming the file for a missing or malformed one; `HarnessError.badConfig`
    ///   when a split has no image.
    static func load(folder: URL, trainSubset: Int?, testSubset: Int?, workers: Int) throws -> DetectionData {
        let train = try COCODetectionData(root: folder, split: "train2017")
        let val = try COCODetectionData(root: folder, split: "val2017")
        for (name, split) in [("train2017", train), ("val2017", val)] where split.count == 0 {
            throw HarnessError.badConfig(what: "--data \(folder.path)", detail:
                "annotations/instances_\(name).json lists no image; give a COCO 2017 folder (or make one with `rkan-repro data make shapes --out DIR`)")
        }
        func subset(_ n: Int?, of count: Int, stream: UInt64) -> [Int] {
            guard let n, n < count else { return Array(0..<count) }
            return Array(Philox(seed: 0, purpose: .subset, index: stream).permutation(count).prefix(n)).sorted()
        }
        return DetectionData(folder: folder, train: train, val: val, trainIndices: subset(trainSubset, of: train.count, stream: 0),
                             valIndices: subset(testSubset, of: val.count, stream: 1), workers: max(1, workers))
    }

    func batchesPerEpoch(batchSize: Int) -> Int { (trainIndices.count + batchSize - 1) / batchSize }

    /// Epoch `epoch`'s order of the training subset (positions in the split), drawn once per epoch.
    func epochOrder(epoch: Int, seed: Int) -> [Int] {
        Philox(seed: UInt64(seed), purpose: .shuffle, index: UInt64(epoch)).permutation(trainIndices.count).map { trainIndices[$0] }
    }

    /// The training images of batch `b` of an epoch's `order`, in batch order.
    func trainBatch(_ b: Int, order: [Int], batchSize: Int) -> [Int] {
        Array(order[(b * batchSize)..<min((b + 1) * batchSize, order.count)])
    }

    /// The validation batches (positions in the split), in file order.
    func valBatches(batchSize: Int) -> [[Int]] {
        stride(from: 0, to: valIndices.count, by: batchSize).map { Array(valIndices[$0..<min($0 + batchSize, valIndices.count)]) }
    }

    /// Decodes images of a split, `workers` at a time.
    /// - Parameter augment: the epoch and seed of training augmentation; nil for evaluation.
    func samples(_ indices: [Int], of split: COCODetectionData, augment: (epoch: Int, seed: Int)?) throws -> [COCODetectionData.Sample] {
        let philox = augment.map { Philox(seed: UInt64($0.seed), purpose: .augment, index: UInt64($0.epoch)) }
        var out = [Result<COCODetectionData.Sample, Error>?](repeating: nil, count: indices.count)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: min(workers, indices.count)) { w in
            for k in stride(from: w, to: indices.count, by: workers) {
                let i = indices[k]
                let r = Result { try split.sample(i, augmentation: philox.map { ($0, UInt64(i) * NotebookAugment.drawsPerImage) }) }
                lock.lock(); out[k] = r; lock.unlock()
            }
        }
        return try out.map { try $0!.get() }
    }

    /// A sample as the detector takes it: the image (H, W, 3) and its target (boxes as float32).
    static func detectorInput(_ s: COCODetectionData.Sample) -> (image: Tensor, target: DetectionTarget) {
        let image = Tensor(shape: [s.height, s.width, 3], values: s.pixels)
        let n = s.target.count
        let masks = Tensor(uninitialized: [n, s.height, s.width])
        for (i, v) in s.target.masks.enumerated() { masks.data[i] = Float(v) }
        return (image, DetectionTarget(boxes: s.target.boxes.map { Float($0) }, labels: s.target.labels, masks: masks))
    }
}
