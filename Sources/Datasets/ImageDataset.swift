/// A labelled image classification dataset with one native image size.
///
/// Pixels are 8-bit, HWC (`(height, width, channels)`, channels 1 or 3). Readers of small datasets
/// (MNIST, CIFAR) hold every pixel in one contiguous buffer (`InMemoryDataset`); readers of large
/// ones decode on demand. Implementations must be safe to call from several threads at once:
/// the batch loader's workers read samples concurrently.
public protocol ImageDataset: Sendable {
    /// Short name used in messages (`fashion-mnist/train`).
    var name: String { get }
    /// Number of samples.
    var count: Int { get }
    /// Number of classes; every label is in `0..<classes`.
    var classes: Int { get }
    /// Channels per pixel (1 or 3).
    var channels: Int { get }
    /// Native image height in pixels.
    var height: Int { get }
    /// Native image width in pixels.
    var width: Int { get }

    /// The class of sample `i`.
    func label(at i: Int) -> Int

    /// Writes sample `i`'s pixels into `out`.
    /// - Parameters:
    ///   - i: sample index in `0..<count`.
    ///   - out: `(height, width, channels)` bytes, written in full.
    /// - Throws: `DatasetError` when the sample cannot be read or decoded (lazy readers only).
    func pixels(at i: Int, into out: UnsafeMutablePointer<UInt8>) throws
}

extension ImageDataset {
    /// Bytes of one image: `height · width · channels`.
    public var imageBytes: Int { height * width * channels }

    /// Every label, in sample order (a copy; for subsets and statistics, not hot loops).
    public var labels: [Int] { (0..<count).map { label(at: $0) } }

    /// Sample `i`'s pixels as an array (a copy; for tests and tools).
    public func image(at i: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: imageBytes)
        try out.withUnsafeMutableBufferPointer { try pixels(at: i, into: $0.baseAddress!) }
        return out
    }
}

/// A dataset whose pixels all live in one contiguous `[UInt8]` of shape `(count, H, W, C)`.
public struct InMemoryDataset: ImageDataset {
    public let name: String
    public let classes: Int
    public let channels: Int
    public let height: Int
    public let width: Int
    /// `(count, height, width, channels)` bytes.
    public let pixelData: [UInt8]
    /// `(count)` labels in `0..<classes`.
    public let labelData: [Int32]

    /// Wraps already decoded data.
    /// - Parameters:
    ///   - pixels: `(count, height, width, channels)` bytes.
    ///   - labels: `(count)` labels.
    /// - Throws: `DatasetError.corrupt` when the sizes disagree or a label is out of range.
    public init(name: String, classes: Int, channels: Int, height: Int, width: Int,
                pixels: [UInt8], labels: [Int32]) throws {
        let per = height * width * channels
        guard per > 0, pixels.count == labels.count * per else {
            throw DatasetError.corrupt(file: name, problem: "\(pixels.count) pixel bytes for \(labels.count) labels of \(height)×\(width)×\(channels)")
        }
        if let bad = labels.firstIndex(where: { $0 < 0 || Int($0) >= classes }) {
            throw DatasetError.corrupt(file: name, problem: "label \(labels[bad]) of sample \(bad) is outside 0..<\(classes)")
        }
        self.name = name
        self.classes = classes
        self.channels = channels
        self.height = height
        self.width = width
        self.pixelData = pixels
        self.labelData = labels
    }

    public var count: Int { labelData.count }

    @inlinable public func label(at i: Int) -> Int { Int(labelData[i]) }

    public func pixels(at i: Int, into out: UnsafeMutablePointer<UInt8>) {
        let per = imageBytes
        pixelData.withUnsafeBufferPointer { out.update(from: $0.baseAddress! + i * per, count: per) }
    }

    /// The samples at `indices`, in that order, as a new in-memory dataset.
    public func subset(_ indices: [Int]) -> InMemoryDataset {
        let per = imageBytes
        var px = [UInt8](repeating: 0, count: indices.count * per)
        px.withUnsafeMutableBufferPointer { dst in
            for (k, i) in indices.enumerated() { pixels(at: i, into: dst.baseAddress! + k * per) }
        }
        // Labels were checked on construction; the copy cannot fail.
        return try! InMemoryDataset(name: name, classes: classes, channels: channels, height: height, width: width,
                                    pixels: px, labels: indices.map { labelData[$0] })
    }
}

/// A dataset of photos of varying sizes (ImageNet, Food-101) that can also hand out a sample at
/// its stored size, for size-dependent transforms (RandomResizedCrop, resize of the shorter side).
/// `pixels(at:into:)` still gives the fixed `height × width` view.
public protocol NativeSizeImageDataset: ImageDataset {
    /// Decodes sample `i` at its stored size and passes its RGB pixels to `body`.
    /// - Parameters:
    ///   - i: sample index in `0..<count`.
    ///   - body: receives `(height, width, channels)` bytes (valid only during the call), the
    ///     width and the height.
    /// - Throws: `DatasetError` when the sample cannot be read or decoded, or what `body` throws.
    func withNativePixels<T>(at i: Int, _ body: (UnsafePointer<UInt8>, _ width: Int, _ height: Int) throws -> T) throws -> T
}
