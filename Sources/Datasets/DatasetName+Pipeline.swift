/// How a dataset's images become the model's input: the resizing and cropping of training and
/// evaluation, and the normalisation. Augmentations a suite chooses (flip, pad-crop,
/// RandAugment, AutoAugment) are added on top by the caller.
public enum InputPipeline: Equatable, Sendable {
    /// Images of one stored size: resized (bicubic) to the run's resolution when it differs,
    /// as the notebook's `Resize(128)` / `Resize(160)` for CIFAR and Tiny ImageNet.
    case fixedSize
    /// Photos of any size: `RandomResizedCrop(size)` for training; for evaluation a resize of
    /// the shorter side to `size · evalResize / 224` then `CenterCrop(size)`.
    case photo(evalResize: Int)
}

extension DatasetName {
    /// The pipeline of the reference notebook: ImageNet `Resize(256)` + `CenterCrop(224)`
    /// (22e50367:training.ipynb), Food-101 `Resize(int(size·1.25))` + `CenterCrop(size)`, i.e.
    /// 200 + 160 at the table era's 160 (c6a179c:training.ipynb), written per 224 as 280; other
    /// resolutions keep the same ratio.
    public var pipeline: InputPipeline {
        switch self {
        case .imagenet: return .photo(evalResize: 256)
        case .food101: return .photo(evalResize: 280)
        default: return .fixedSize
        }
    }

    /// The resizing, cropping and normalisation of one split, without random augmentation.
    /// - Parameters:
    ///   - imageSize: side of the square the model sees.
    ///   - storedHeight, storedWidth: the dataset's fixed-size view (`ImageDataset.height/width`).
    ///   - training: the training split (RandomResizedCrop for photos) or evaluation.
    /// - Returns: an `Augment` with no flip, crop padding or pixel ops.
    public func transforms(imageSize: Int, storedHeight: Int, storedWidth: Int, training: Bool) -> Augment {
        var aug = Augment(resize: storedHeight == imageSize && storedWidth == imageSize ? nil : imageSize,
                          interpolation: .bicubic, mean: mean, std: std)
        if case let .photo(evalResize) = pipeline {
            aug.resize = nil
            if training {
                aug.randomResizedCrop = imageSize
            } else {
                aug.resizeShorter = imageSize * evalResize / 224
                aug.centerCrop = imageSize
            }
        }
        return aug
    }
}
