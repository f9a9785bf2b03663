import Engine

/// A per-sample transform pipeline, in torchvision's order, with the arithmetic of torchvision's
/// transforms on PIL images (the reference notebooks' datasets yield PIL images):
/// [`RandomResizedCrop(s)` | `Resize(s)` (shorter side) | `Resize((r, r))`] → `RandomCrop(size,
/// padding: p)` → `CenterCrop(c)` → `RandomHorizontalFlip()` → `AutoAugment(policy)` →
/// `RandAugment(n, m)` → `ToTensor()` → `Normalize(mean, std)`. Every step is optional except the
/// normalisation; at most one of the three resizing steps is set.
///
/// Randomness: sample `i` of epoch `e` draws from
/// `Philox(seed: seed, purpose: .augment, index: UInt64(e) << 32 | UInt64(i))`, each decision at a
/// fixed draw (block) index: 0 the crop row, 1 the crop column (`below(2p + 1, ·)`), 2 the flip
/// (`uniform(2) < 0.5`), 3–7 AutoAugment, 8–31 RandAugment (see `AutoAugmentRunner`), 32–71
/// RandomResizedCrop (see `RandomResizedCrop.box`). So a sample's augmentation depends only on
/// (seed, epoch, sample index), not on batch composition, worker count or shuffle order, and
/// adding a step does not change the draws of the others.
public struct Augment: Sendable, Equatable {
    /// Side of the square the image is resized to first (`nil`: native size).
    public var resize: Int?
    /// PIL filter of `resize` (the reference's `Resize(s, BICUBIC)`).
    public var interpolation: Interpolation
    /// Output side of a RandomResizedCrop (scale 0.08–1, ratio 3/4–4/3, PIL bilinear) of the
    /// image at its stored size (`nil`: none). ImageNet/Food-101 training.
    public var randomResizedCrop: Int?
    /// Shorter side of a `Resize(s)` (aspect kept, PIL bilinear) of the image at its
    /// stored size; needs `centerCrop` (`nil`: none). ImageNet evaluation: 256 then center crop 224.
    public var resizeShorter: Int?
    /// Zero padding of a random crop to the current size (`nil`: no random crop). 4 for CIFAR.
    public var padCrop: Int?
    /// Side of a center crop (`nil`: none).
    public var centerCrop: Int?
    /// Random horizontal flip with probability 0.5.
    public var hflip: Bool
    /// AutoAugment policy, after the flip (`nil`: none).
    public var autoAugment: AutoAugmentPolicy?
    /// RandAugment, after the flip and any AutoAugment (`nil`: none).
    public var randAugment: RandAugment?
    /// Per-channel mean and std of `Normalize` (values for pixels / 255).
    public var mean: [Float]
    public var std: [Float]

    public init(hflip: Bool = false, padCrop: Int? = nil, resize: Int? = nil, interpolation: Interpolation = .bicubic,
                centerCrop: Int? = nil, randomResizedCrop: Int? = nil, resizeShorter: Int? = nil,
                autoAugment: AutoAugmentPolicy? = nil, randAugment: RandAugment? = nil, mean: [Float], std: [Float]) {
        self.hflip = hflip; self.padCrop = padCrop; self.resize = resize; self.interpolation = interpolation
        self.centerCrop = centerCrop; self.randomResizedCrop = randomResizedCrop; self.resizeShorter = resizeShorter
        self.autoAugment = autoAugment; self.randAugment = randAugment; self.mean = mean; self.std = std
    }

    /// Whether any step draws random numbers.
    public var isRandom: Bool {
        hflip || padCrop != nil || randomResizedCrop != nil || autoAugment != nil || (randAugment.map { $0.ops > 0 } ?? false)
    }

    /// Whether the first step works on the image at its stored size (`NativeSizeImageDataset`).
    public var usesNativeSize: Bool { randomResizedCrop != nil || resizeShorter != nil }

    /// Whether AutoAugment or RandAugment run (the crop and flip are then materialised as bytes).
    var hasPixelOps: Bool { autoAugment != nil || (randAugment.map { $0.ops > 0 } ?? false) }

    /// Output `(height, width)` for an input of `height × width`.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        if let c = centerCrop { return (c, c) }
        if let s = randomResizedCrop { return (s, s) }
        if let r = resize { return (r, r) }
        return (height, width)
    }

    /// The random stream of one sample.
    @inlinable
    public static func stream(seed: UInt64, epoch: Int, sample: Int) -> Philox {
        Philox(seed: seed, purpose: .augment, index: UInt64(epoch) << 32 | UInt64(sample))
    }
}

/// An `Augment` bound to one input size, with its normalisation table, plus the scratch buffers
/// of one worker. Not shared between threads: each worker makes its own.
public final class AugmentWorker {
    public let augment: Augment
    public let channels: Int, inHeight: Int, inWidth: Int
    public let outHeight: Int, outWidth: Int
    /// `(C, 256)` normalisation table.
    let table: UnsafeMutablePointer<Float>
    /// `(inH, inW, C)` decoded sample.
    let decoded: UnsafeMutablePointer<UInt8>
    /// `(midH, midW, C)` resized sample (size of `resize`, `randomResizedCrop` or the centre-crop window).
    let resized: UnsafeMutablePointer<UInt8>
    /// Two `(outH, outW, C)` byte buffers for AutoAugment/RandAugment.
    let pixelsA: UnsafeMutablePointer<UInt8>, pixelsB: UnsafeMutablePointer<UInt8>
    /// PIL resizing of `resize`, RandomResizedCrop and the shorter-side resize.
    let resampler = PILResampler()

    /// - Throws: `DatasetError.invalidRequest` when mean/std do not match the channel count, a
    ///   size is not positive, or the steps do not combine (two resizes, `resizeShorter` without
    ///   `centerCrop` or with `padCrop`, a RandAugment out of range).
    public init(_ augment: Augment, channels: Int, height: Int, width: Int) throws {
        guard augment.mean.count == channels, augment.std.count == channels, augment.std.allSatisfy({ $0 > 0 }) else {
            throw DatasetError.invalidRequest("augment: \(augment.mean.count) means and \(augment.std.count) stds (all > 0) are needed for \(channels)-channel images, got mean \(augment.mean), std \(augment.std)")
        }
        for (what, v) in [("resize", augment.resize), ("centerCrop", augment.centerCrop),
                          ("randomResizedCrop", augment.randomResizedCrop), ("resizeShorter", augment.resizeShorter)]
        where v != nil && v! <= 0 {
            throw DatasetError.invalidRequest("augment: \(what) must be positive, got \(v!)")
        }
        if let p = augment.padCrop, p < 0 { throw DatasetError.invalidRequest("augment: padCrop must be ≥ 0, got \(p)") }
        let resizes = [augment.resize, augment.randomResizedCrop, augment.resizeShorter].compactMap { $0 }.count
        if resizes > 1 {
            throw DatasetError.invalidRequest("augment: resize, randomResizedCrop and resizeShorter exclude each other; got \(resizes) of them")
        }
        if augment.resizeShorter != nil && (augment.centerCrop == nil || augment.padCrop != nil) {
            throw DatasetError.invalidRequest("augment: resizeShorter needs a centerCrop (the images have different shapes) and takes no padCrop")
        }
        if let ra = augment.randAugment {
            guard ra.ops >= 0 && ra.ops <= RandAugment.maxOps && ra.bins >= 2 && ra.magnitude >= 0 && ra.magnitude < ra.bins else {
                throw DatasetError.invalidRequest("augment: RandAugment(ops \(ra.ops), magnitude \(ra.magnitude), bins \(ra.bins)) needs 0…\(RandAugment.maxOps) ops and a magnitude in 0..<bins")
            }
        }
        if augment.hasPixelOps && channels != 1 && channels != 3 {
            throw DatasetError.invalidRequest("augment: AutoAugment/RandAugment take 1- or 3-channel images, not \(channels)")
        }
        // A random crop followed by a center crop is one crop at the summed offset only while the
        // center crop stays inside the random crop's window.
        if augment.padCrop != nil, let c = augment.centerCrop,
           c > (augment.resize ?? augment.randomResizedCrop ?? min(height, width)) {
            throw DatasetError.invalidRequest("augment: centerCrop \(c) larger than the image cannot follow a random crop")
        }
        self.augment = augment
        self.channels = channels; self.inHeight = height; self.inWidth = width
        (outHeight, outWidth) = augment.outputSize(height: height, width: width)
        let t = Transforms.normalizeTable(mean: augment.mean, std: augment.std)
        table = .allocate(capacity: t.count)
        table.initialize(from: t, count: t.count)
        decoded = .allocate(capacity: height * width * channels)
        let mid = augment.resize ?? augment.randomResizedCrop ?? (augment.resizeShorter != nil ? augment.centerCrop! : 0)
        resized = .allocate(capacity: max(mid * mid * channels, 1))
        let outCount = augment.hasPixelOps ? outHeight * outWidth * channels : 1
        pixelsA = .allocate(capacity: outCount)
        pixelsB = .allocate(capacity: outCount)
    }

    deinit {
        table.deallocate(); decoded.deallocate(); resized.deallocate()
        pixelsA.deallocate(); pixelsB.deallocate()
    }

    /// Floats written per sample: `outHeight · outWidth · channels`.
    public var outputCount: Int { outHeight * outWidth * channels }

    /// Reads sample `index` of `dataset` and writes its augmented, normalised pixels. With
    /// `randomResizedCrop` or `resizeShorter`, a `NativeSizeImageDataset` is read at its stored size.
    /// - Parameters:
    ///   - out: `(outHeight, outWidth, C)` floats.
    ///   - seed, epoch: key of the random streams (ignored when nothing is random).
    /// - Throws: what `dataset.pixels(at:into:)` throws.
    public func apply(_ out: UnsafeMutablePointer<Float>, dataset: any ImageDataset, index: Int,
                      seed: UInt64, epoch: Int) throws {
        if augment.usesNativeSize, let native = dataset as? any NativeSizeImageDataset {
            try native.withNativePixels(at: index) { p, w, h in
                apply(out, image: p, height: h, width: w, index: index, seed: seed, epoch: epoch)
            }
            return
        }
        try dataset.pixels(at: index, into: decoded)
        apply(out, image: decoded, height: inHeight, width: inWidth, index: index, seed: seed, epoch: epoch)
    }

    /// Augments an already decoded `(inHeight, inWidth, C)` image (sample number `index`).
    public func apply(_ out: UnsafeMutablePointer<Float>, image: UnsafePointer<UInt8>, index: Int,
                      seed: UInt64, epoch: Int) throws {
        apply(out, image: image, height: inHeight, width: inWidth, index: index, seed: seed, epoch: epoch)
    }

    /// Augments a decoded `(height, width, C)` image; only `randomResizedCrop` and `resizeShorter`
    /// accept a size other than `inHeight × inWidth`.
    public func apply(_ out: UnsafeMutablePointer<Float>, image: UnsafePointer<UInt8>, height: Int, width: Int,
                      index: Int, seed: UInt64, epoch: Int) {
        precondition(augment.usesNativeSize || (height == inHeight && width == inWidth),
                     "AugmentWorker: a \(height)×\(width) image for a \(inHeight)×\(inWidth) pipeline")
        let rng = Augment.stream(seed: seed, epoch: epoch, sample: index)
        var src = image, midHeight = height, midWidth = width
        var centered = false   // the centre crop is already applied
        if let s = augment.randomResizedCrop {
            let b = RandomResizedCrop.box(height: height, width: width, rng: rng)
            resampler.resize(resized, outHeight: s, outWidth: s, image, inHeight: height, inWidth: width, channels: channels,
                             top: b.top, left: b.left, height: b.height, width: b.width, fullHeight: s, fullWidth: s,
                             filter: .bilinear)
            src = UnsafePointer(resized); midHeight = s; midWidth = s
        } else if let s = augment.resizeShorter, let c = augment.centerCrop {
            // Resize(s) then CenterCrop(c): only the window of the resized image is computed.
            let (rh, rw) = RandomResizedCrop.shorterSide(s, height: height, width: width)
            resampler.resize(resized, outHeight: c, outWidth: c, image, inHeight: height, inWidth: width, channels: channels,
                             top: 0, left: 0, height: height, width: width, fullHeight: rh, fullWidth: rw,
                             rowOffset: Transforms.centerOffset(input: rh, output: c),
                             colOffset: Transforms.centerOffset(input: rw, output: c), filter: .bilinear)
            src = UnsafePointer(resized); midHeight = c; midWidth = c; centered = true
        } else if let s = augment.resize {
            resampler.resize(resized, outHeight: s, outWidth: s, image, inHeight: height, inWidth: width, channels: channels,
                             filter: augment.interpolation)
            src = UnsafePointer(resized); midHeight = s; midWidth = s
        }
        var top = 0, left = 0
        if let p = augment.padCrop {
            // RandomCrop(size = current size, padding = p): i, j uniform in 0...(H + 2p − H).
            top = rng.below(2 * p + 1, 0) - p
            left = rng.below(2 * p + 1, 1) - p
        }
        if augment.centerCrop != nil && !centered {
            top += Transforms.centerOffset(input: midHeight, output: outHeight)
            left += Transforms.centerOffset(input: midWidth, output: outWidth)
        }
        let flip = augment.hflip && rng.uniform(2) < 0.5
        guard augment.hasPixelOps else {
            Transforms.cropFlipNormalize(out, src, height: midHeight, width: midWidth, channels: channels,
                                         outHeight: outHeight, outWidth: outWidth, top: top, left: left, flip: flip,
                                         table: table)
            return
        }
        // Bytes for AutoAugment/RandAugment: crop (and flip) into A, the ops ping-pong A/B.
        Transforms.crop(pixelsA, src, height: midHeight, width: midWidth, channels: channels,
                        outHeight: outHeight, outWidth: outWidth, top: top, left: left)
        var cur = pixelsA
        if flip {
            Transforms.hflip(pixelsB, pixelsA, height: outHeight, width: outWidth, channels: channels)
            cur = pixelsB
        }
        let result = AutoAugmentRunner.apply(cur, spare: cur == pixelsA ? pixelsB : pixelsA, height: outHeight,
                                             width: outWidth, channels: channels, rng: rng,
                                             autoAugment: augment.autoAugment, randAugment: augment.randAugment)
        Transforms.normalize(out, result, pixels: outHeight * outWidth, channels: channels, table: table)
    }
}
