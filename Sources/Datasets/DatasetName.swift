import Foundation

/// The datasets suite files can name (`dataset: {name: cifar100}`), with the facts every stage
/// needs: classes, channels, native size, normalisation, input pipeline and whether rkan-repro
/// can train on it. A suite's dataset is parsed into this type once, when the suite is decoded.
public enum DatasetName: String, CaseIterable, Codable, Sendable {
    case fashionMNIST = "fashion-mnist"
    case mnist
    case cifar10
    case cifar100
    case tinyImageNet = "tiny-imagenet"
    case svhn
    case food101
    case imagenet
    /// COCO 2017 (the paper's detection table): its backbones can be counted, not trained.
    case coco

    /// Per-channel Normalize mean and std (pixels / 255), as in the reference training script.
    public var normalization: (mean: [Float], std: [Float]) {
        switch self {
        case .fashionMNIST: return (FashionMNIST.mean, FashionMNIST.std)
        case .mnist: return (MNIST.mean, MNIST.std)
        case .cifar10: return (CIFAR.Variant.cifar10.mean, CIFAR.Variant.cifar10.std)
        case .cifar100: return (CIFAR.Variant.cifar100.mean, CIFAR.Variant.cifar100.std)
        case .tinyImageNet: return (TinyImageNet.mean, TinyImageNet.std)
        case .svhn: return (SVHN.mean, SVHN.std)
        case .food101: return (Food101.mean, Food101.std)
        case .imagenet, .coco: return (ImageNet.mean, ImageNet.std)
        }
    }

    /// Normalize mean per channel.
    public var mean: [Float] { normalization.mean }
    /// Normalize std per channel.
    public var std: [Float] { normalization.std }

    /// Sample counts of the official splits and the number of classes (`test` is the labelled
    /// validation set where the test set has no labels; COCO: train2017 / val2017 images).
    public var official: (train: Int, test: Int, classes: Int) {
        switch self {
        case .fashionMNIST, .mnist: return (60_000, 10_000, 10)
        case .cifar10: return (50_000, 10_000, 10)
        case .cifar100: return (50_000, 10_000, 100)
        case .tinyImageNet: return (100_000, 10_000, 200)
        case .svhn: return (73_257, 26_032, 10)
        case .food101: return (75_750, 25_250, 101)
        case .imagenet: return (1_281_167, 50_000, 1000)
        case .coco: return (118_287, 5_000, 80)
        }
    }

    /// Classes of the classifier a model for this dataset ends in.
    public var classes: Int { official.classes }

    /// Colour channels of the stored images (1: grey).
    public var channels: Int {
        switch self {
        case .fashionMNIST, .mnist: return 1
        default: return 3
        }
    }

    /// Side of the square input a suite uses when it names no resolution (photos: the
    /// reference's crop, 224; COCO: the detector's 640).
    public var nativeSize: Int {
        switch self {
        case .fashionMNIST, .mnist: return 28
        case .cifar10, .cifar100, .svhn: return 32
        case .tinyImageNet: return 64
        case .food101, .imagenet: return 224
        case .coco: return 640
        }
    }

    /// Whether the data set is a detection one (COCO layout, read by the COCO reader and trained
    /// with a detector, not by the classification loaders).
    public var isDetection: Bool { self == .coco }

    /// Parses a name, with an error listing the known ones.
    public static func parse(_ text: String) throws -> DatasetName {
        guard let n = DatasetName(rawValue: text.lowercased()) else {
            throw DatasetError.invalidRequest("unknown dataset «\(text)»; known: \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return n
    }
}
