import Foundation
import Engine
import Datasets

/// A batch ready for the model: NHWC images, hard labels and the loss targets (soft when
/// CutMix or MixUp mixed the batch).
public struct TrainBatch {
    public var images: Tensor
    public var labels: [Int]
    public var targets: Targets
}

/// The training and test splits of a run's dataset with the subsets, sizes and transforms of
/// its profile; hands out deterministic batch loaders.
public final class TrainingData {
    /// The dataset: classes, channels, normalisation and input pipeline.
    public let dataset: DatasetName
    public let train: any ImageDataset
    public let test: any ImageDataset
    public let trainIndices: [Int]
    public let testIndices: [Int]
    public let imageSize: Int
    public let workers: Int
    public var classes: Int { dataset.classes }
    public var channels: Int { dataset.channels }

    public init(dataset: DatasetName, train: any ImageDataset, test: any ImageDataset, trainIndices: [Int], testIndices: [Int],
                imageSize: Int, workers: Int) {
        self.dataset = dataset; self.train = train; self.test = test; self.trainIndices = trainIndices
        self.testIndices = testIndices; self.imageSize = imageSize; self.workers = workers
    }

    /// Loads both splits and draws the class-balanced subsets (seeded by `subsetSeed`, the same for
    /// every run of a suite so that pairs see the same images).
    public static func load(dataset: DatasetName, folder: URL?, imageSize: Int, trainSubset: Int?, testSubset: Int?,
                            workers: Int, subsetSeed: UInt64) throws -> TrainingData {
        let train = try dataset.load(folder: folder, split: .train)
        let test = try dataset.load(folder: folder, split: .test)
        try check(train, of: dataset, folder: folder)
        try check(test, of: dataset, folder: folder)
        func subset(_ d: any ImageDataset, _ n: Int?) throws -> [Int] {
            guard let n, n < d.count else { return Array(0..<d.count) }
            return try classBalancedSubset(labels: d.labels, classes: dataset.classes, count: n, seed: subsetSeed)
        }
        return TrainingData(dataset: dataset, train: train, test: test, trainIndices: try subset(train, trainSubset),
                            testIndices: try subset(test, testSubset), imageSize: imageSize, workers: workers)
    }

    /// A split the run can use: at least one image (a run over an empty test split would record
    /// a loss of 0 and a top-1 of 0 % as a finished result), no more classes than the dataset's
    /// (a Tiny ImageNet `wnids.txt` of 300 ids does not fit the 200-class head the model gets) and
    /// every label inside them.
    /// - Throws: `DatasetError.corrupt` naming the split and what to fix.
    static func check(_ d: any ImageDataset, of dataset: DatasetName, folder: URL?) throws {
        let place = "\(d.name) (data folder \(folder?.path ?? "the default"))"
        guard d.count > 0 else {
            throw DatasetError.corrupt(file: place, problem: "the split holds 0 images: restore the dataset's files (rkan-repro data check \(dataset.rawValue) lists what is missing)")
        }
        guard d.classes <= dataset.classes else {
            throw DatasetError.corrupt(file: place, problem: "the files list \(d.classes) classes, \(dataset.rawValue) has \(dataset.classes) (the model's outputs): restore the dataset's own class list")
        }
        for i in 0..<d.count {
            let l = d.label(at: i)
            guard l >= 0 && l < dataset.classes else {
                throw DatasetError.corrupt(file: place, problem: "sample \(i) has label \(l), outside 0..<\(dataset.classes): the label data is damaged; restore the dataset's files")
            }
        }
    }

    /// Training batches per epoch, the last partial one included: the reference's DataLoader has no
    /// `drop_last` (22e50367:training.ipynb `DataLoader(train_dataset, batch_size, shuffle = True, ...)`).
    public func trainBatchesPerEpoch(batchSize: Int) -> Int { (trainIndices.count + batchSize - 1) / batchSize }

    /// The dataset's resizing, cropping and normalisation (`DatasetName.transforms`) with the
    /// suite's augmentation on top (training only).
    private func augment(_ a: AugmentConfig?, for d: any ImageDataset, training: Bool) -> Augment {
        var aug = dataset.transforms(imageSize: imageSize, storedHeight: d.height, storedWidth: d.width, training: training)
        aug.hflip = a?.hflip ?? false
        aug.padCrop = a?.padCrop
        aug.randAugment = a?.randaugment.map { Datasets.RandAugment(ops: $0.n, magnitude: $0.m) }
        aug.autoAugment = a?.autoaugment.flatMap { Datasets.AutoAugmentPolicy(rawValue: $0.rawValue) }
        return aug
    }

    /// Shuffled, augmented batches of epoch `epoch`, mixed by CutMix/MixUp when configured,
    /// from batch `startBatch` on (resuming inside an epoch: every draw is keyed by seed, epoch
    /// and batch or sample index, so the batches are those of an uninterrupted epoch).
    /// - Parameter share: for a data-parallel rank, the images of a batch it keeps
    ///   (`DataParallel.loaderShare`): only those and their mixing partners are decoded (the rest
    ///   of each batch is zeros).
    public func trainLoader(epoch: Int, seed: Int, batchSize: Int, augment a: AugmentConfig, startBatch: Int = 0,
                            share: LoaderShare? = nil) throws -> BatchStream {
        let mixer = BatchMixer(cutmix: a.cutmix.map { ($0.p, $0.alpha) }, mixup: a.mixup.map { ($0.p, $0.alpha) },
                               classes: dataset.classes, seed: UInt64(seed), epoch: epoch)
        let side = imageSize
        let positions: BatchPositions? = share.map { share in { b, n in
            let wanted = share(n)
            return mixer.isActive ? mixer.needed(batchIndex: b, n: n, h: side, w: side, wanted: wanted) : (0..<n).map(wanted.contains)
        } }
        let loader = try BatchLoader(dataset: train, indices: trainIndices, batchSize: batchSize, seed: UInt64(seed), epoch: epoch,
                                     shuffle: true, dropLast: false, augment: augment(a, for: train, training: true), workers: workers,
                                     startBatch: startBatch, positions: positions)
        return BatchStream(loader: loader, mixer: mixer)
    }

    /// Test batches in a fixed order, no augmentation (for a data-parallel rank: its shards only).
    public func testLoader(batchSize: Int, share: LoaderShare? = nil) throws -> BatchStream {
        let positions: BatchPositions? = share.map { share in { _, n in
            let wanted = share(n)
            return (0..<n).map(wanted.contains)
        } }
        let loader = try BatchLoader(dataset: test, indices: testIndices, batchSize: batchSize, seed: 0, epoch: 0,
                                     shuffle: false, dropLast: false, augment: augment(nil, for: test, training: false), workers: workers,
                                     positions: positions)
        return BatchStream(loader: loader, mixer: nil)
    }
}

/// Iterates a loader's batches as `TrainBatch`es.
public final class BatchStream {
    let loader: BatchLoader
    let mixer: BatchMixer?
    init(loader: BatchLoader, mixer: BatchMixer?) { self.loader = loader; self.mixer = mixer }

    public var count: Int { loader.count }

    /// The next batch, or nil at the end of the epoch.
    public func next() throws -> TrainBatch? {
        guard let b = try loader.next() else { return nil }
        if let mixer, mixer.isActive { return mixer.mix(b.images, labels: b.labels, batchIndex: b.index) }
        return TrainBatch(images: b.images, labels: b.labels, targets: .labels(b.labels))
    }

    public func close() { loader.close() }
}
