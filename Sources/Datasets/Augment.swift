import Engine

/// A per-sample transform pipeline, in torchvision's order:
/// `Resize((r, r))` → `RandomCrop(size, padding: p)` → `CenterCrop(c)` → `RandomHorizontalFlip()`
/// → `ToTensor()` → `Normalize(mean, std)`. Every step is optional except the normalisation.
///
/// Randomness: sample `i` of epoch `e` draws from
/// `Philox(seed: seed, purpose: .augment, index: UInt64(e) << 32 | UInt64(i))`: draw 0 is the
/// crop row, draw 1 the crop column (`below(H + 2p − size + 1, ·)`), draw 2 the flip
/// (`uniform(2) < 0.5`). So a sample's augmentation depends only on (seed, epoch, sample index),
/// not on batch composition, worker count or shuffle order.
public struct Augment: Sendable, Equatable {
    /// Side of the square the image is resized to first (`nil`: native size).
    public var resize: Int?
    /// Interpolation of `resize` (the reference uses bicubic).
    public var interpolation: Interpolation
    /// Zero padding of a random crop to the current size (`nil`: no random crop). 4 for CIFAR.
    public var padCrop: Int?
    /// Side of a center crop (`nil`: none).
    public var centerCrop: Int?
    /// Random horizontal flip with probability 0.5.
    public var hflip: Bool
    /// Per-channel mean and std of `Normalize` (values for pixels / 255).
    public var mean: [Float]
    public var std: [Float]

    public init(hflip: Bool = false, padCrop: Int? = nil, resize: Int? = nil, interpolation: Interpolation = .bicubic,
                centerCrop: Int? = nil, mean: [Float], std: [Float]) {
        self.hflip = hflip; self.padCrop = padCrop; self.resize = resize; self.interpolation = interpolation
        self.centerCrop = centerCrop; self.mean = mean; self.std = std
    }

    /// Whether any step draws random numbers.
    public var isRandom: Bool { hflip || padCrop != nil }

    /// Output `(height, width)` for an input of `height × width`.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        if let c = centerCrop { return (c, c) }
        if let r = resize { return (r, r) }
        return (height, width)
    }

    /// The random stream of one sample.
    @inlinable
    public static func stream(seed: UInt64, epoch: Int, sample: Int) -> Philox {
        Philox(seed: seed, purpose: .augment, index: UInt64(epoch) << 32 | UInt64(sample))
    }
}

/// An `Augment` bound to one input size, with its normalisation table and resize plan, plus
/// the scratch buffers of one worker. Not shared between threads: each worker makes its own.
public final class AugmentWorker {
    public let augment: Augment
    public let channels: Int, inHeight: Int, inWidth: Int
    public let outHeight: Int, outWidth: Int
    /// Size after the resize step.
    let midHeight: Int, midWidth: Int
    let plan: ResizePlan?
    /// `(C, 256)` normalisation table.
    let table: UnsafeMutablePointer<Float>
    /// `(inH, inW, C)` decoded sample.
    let decoded: UnsafeMutablePointer<UInt8>
    /// `(midH, midW, C)` resized sample.
    let resized: UnsafeMutablePointer<UInt8>
    /// Float scratch of the resize.
    let resizeScratch: UnsafeMutablePointer<Float>
    let resizeScratchCount: Int

    /// - Throws: `DatasetError.invalidRequest` when mean/std do not match the channel count or a
    ///   size is not positive.
    public init(_ augment: Augment, channels: Int, height: Int, width: Int) throws {
        guard augment.mean.count == channels, augment.std.count == channels, augment.std.allSatisfy({ $0 > 0 }) else {
            throw DatasetError.invalidRequest("augment: \(augment.mean.count) means and \(augment.std.count) stds (all > 0) are needed for \(channels)-channel images, got mean \(augment.mean), std \(augment.std)")
        }
        for (what, v) in [("resize", augment.resize), ("centerCrop", augment.centerCrop)] where v != nil && v! <= 0 {
            throw DatasetError.invalidRequest("augment: \(what) must be positive, got \(v!)")
        }
        if let p = augment.padCrop, p < 0 { throw DatasetError.invalidRequest("augment: padCrop must be ≥ 0, got \(p)") }
        // A random crop followed by a center crop is one crop at the summed offset only while the
        // center crop stays inside the random crop's window.
        if augment.padCrop != nil, let c = augment.centerCrop, c > (augment.resize ?? min(height, width)) {
            throw DatasetError.invalidRequest("augment: centerCrop \(c) larger than the image cannot follow a random crop")
        }
        self.augment = augment
        self.channels = channels; self.inHeight = height; self.inWidth = width
        (midHeight, midWidth) = augment.resize.map { ($0, $0) } ?? (height, width)
        (outHeight, outWidth) = augment.outputSize(height: height, width: width)
        plan = augment.resize.map { ResizePlan(augment.interpolation, inHeight: height, inWidth: width, outHeight: $0, outWidth: $0) }
        let t = Transforms.normalizeTable(mean: augment.mean, std: augment.std)
        table = .allocate(capacity: t.count)
        table.initialize(from: t, count: t.count)
        decoded = .allocate(capacity: height * width * channels)
        resized = .allocate(capacity: midHeight * midWidth * channels)
        resizeScratchCount = plan?.scratchCount(channels: channels) ?? 0
        resizeScratch = .allocate(capacity: max(resizeScratchCount, 1))
    }

    deinit {
        table.deallocate(); decoded.deallocate(); resized.deallocate(); resizeScratch.deallocate()
    }

    /// Floats written per sample: `outHeight · outWidth · channels`.
    public var outputCount: Int { outHeight * outWidth * channels }

    /// Reads sample `index` of `dataset` and writes its augmented, normalised pixels.
    /// - Parameters:
    ///   - out: `(outHeight, outWidth, C)` floats.
    ///   - seed, epoch: key of the random streams (ignored when nothing is random).
    /// - Throws: what `dataset.pixels(at:into:)` throws.
    public func apply(_ out: UnsafeMutablePointer<Float>, dataset: any ImageDataset, index: Int,
                      seed: UInt64, epoch: Int) throws {
        try dataset.pixels(at: index, into: decoded)
        try apply(out, image: decoded, index: index, seed: seed, epoch: epoch)
    }

    /// Augments an already decoded `(inHeight, inWidth, C)` image (sample number `index`).
    public func apply(_ out: UnsafeMutablePointer<Float>, image: UnsafePointer<UInt8>, index: Int,
                      seed: UInt64, epoch: Int) throws {
        var src = image
        if let plan {
            plan.apply(resized, image, channels: channels, scratch: resizeScratch)
            src = UnsafePointer(resized)
        }
        let rng = Augment.stream(seed: seed, epoch: epoch, sample: index)
        var top = 0, left = 0
        if let p = augment.padCrop {
            // RandomCrop(size = current size, padding = p): i, j uniform in 0...(H + 2p − H).
            top = rng.below(2 * p + 1, 0) - p
            left = rng.below(2 * p + 1, 1) - p
        }
        if augment.centerCrop != nil {
            top += Transforms.centerOffset(input: midHeight, output: outHeight)
            left += Transforms.centerOffset(input: midWidth, output: outWidth)
        }
        let flip = augment.hflip && rng.uniform(2) < 0.5
        Transforms.cropFlipNormalize(out, src, height: midHeight, width: midWidth, channels: channels,
                                     outHeight: outHeight, outWidth: outWidth, top: top, left: left, flip: flip,
                                     table: table)
    }
}
