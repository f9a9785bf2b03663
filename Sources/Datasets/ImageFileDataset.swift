import Foundation

/// A dataset of JPEG files decoded on demand (by the loader's workers) to a fixed size.
///
/// `pixels(at:)` reads and decodes one file (DCT-scaled when the file is much larger than the
/// target) and, if its size differs from `height × width`, resizes it with PIL's bilinear filter (`PILResampler`). Use
/// `materialized()` to decode everything once into an `InMemoryDataset` when it fits in memory
/// (Tiny ImageNet: 100 000 × 64 × 64 × 3 = 1.2 GB).
public struct ImageFileDataset: NativeSizeImageDataset {
    public let name: String
    public let classes: Int
    public let channels = 3
    public let height: Int
    public let width: Int
    /// `(count)` image files.
    public let files: [URL]
    /// `(count)` labels in `0..<classes`.
    public let labelData: [Int32]

    public init(name: String, classes: Int, height: Int, width: Int, files: [URL], labels: [Int32]) {
        precondition(files.count == labels.count, "ImageFileDataset: \(files.count) files, \(labels.count) labels")
        self.name = name; self.classes = classes; self.height = height; self.width = width
        self.files = files; self.labelData = labels
    }

    public var count: Int { files.count }

    public func label(at i: Int) -> Int { Int(labelData[i]) }

    /// Decodes sample `i` into `(height, width, 3)` bytes.
    /// - Throws: `DatasetError.unreadable` / `.corrupt` naming the file.
    public func pixels(at i: Int, into out: UnsafeMutablePointer<UInt8>) throws {
        let url = files[i]
        let data = try DataRoot.read(url)
        try data.withUnsafeBytes { raw in
            try JPEG.decode(raw, name: url.path, minWidth: width, minHeight: height) { p, w, h in
                if w == width && h == height {
                    out.update(from: p, count: w * h * 3)
                    return
                }
                PILResampler().resize(out, outHeight: height, outWidth: width, p, inHeight: h, inWidth: w, channels: 3,
                                      filter: .bilinear)
            }
        }
    }

    /// Decodes sample `i` at its stored size (no DCT scaling, as PIL decodes it for torchvision).
    /// - Throws: `DatasetError.unreadable` / `.corrupt` naming the file, or what `body` throws.
    public func withNativePixels<T>(at i: Int, _ body: (UnsafePointer<UInt8>, _ width: Int, _ height: Int) throws -> T) throws -> T {
        let url = files[i]
        let data = try DataRoot.read(url)
        return try data.withUnsafeBytes { raw in try JPEG.decode(raw, name: url.path, body) }
    }

    /// Decodes every image into one contiguous buffer, on `threads` threads.
    /// - Returns: an in-memory dataset with the same samples in the same order.
    /// - Throws: the error of the first (lowest-index) sample that fails.
    public func materialized(threads: Int = 2) throws -> InMemoryDataset {
        let per = imageBytes, n = count
        var pixels = [UInt8](repeating: 0, count: n * per)
        let chunk = 256, chunks = (n + chunk - 1) / chunk
        var errors = [DatasetError?](repeating: nil, count: chunks)
        pixels.withUnsafeMutableBufferPointer { dst in
            errors.withUnsafeMutableBufferPointer { errs in
                let base = dst.baseAddress!, errBase = errs.baseAddress!
                DispatchQueue.concurrentPerform(iterations: max(1, min(threads, chunks))) { w in
                    var c = w
                    while c < chunks {
                        for i in c * chunk..<min((c + 1) * chunk, n) {
                            do { try self.pixels(at: i, into: base + i * per) } catch {
                                errBase[c] = error as? DatasetError ?? .unreadable(file: files[i].path, reason: "\(error)")
                                break
                            }
                        }
                        c += max(1, min(threads, chunks))
                    }
                }
            }
        }
        if let first = errors.compactMap({ $0 }).first { throw first }
        return try InMemoryDataset(name: name, classes: classes, channels: 3, height: height, width: width,
                                   pixels: pixels, labels: labelData)
    }
}
