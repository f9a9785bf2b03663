import CJPEG
import Foundation

/// JPEG decoding through libjpeg-turbo, always to 8-bit RGB (HWC).
///
/// Grey images are expanded to RGB by libjpeg; CMYK/YCCK files (a few in ImageNet) are converted
/// with `R = C·K / 255` on Adobe's inverted storage. When the caller needs only a small image,
/// libjpeg's DCT scaling decodes at 1/2, 1/4 or 1/8 of the size directly. A broken file (bad
/// marker, damaged Huffman data, truncated) is a `DatasetError.corrupt` naming the file: the
/// C helper in `CJPEG/rkan_jpeg.h` installs an `error_exit` that longjmps back instead of exiting.
public enum JPEG {
    /// The most pixels a JPEG may have: PIL's decompression-bomb limit (2 × `Image.MAX_IMAGE_PIXELS`,
    /// where PIL raises `DecompressionBombError`), about 13,377 × 13,377. The reference's loader
    /// refuses larger files; so does this one, before allocating anything.
    public static let maxPixels = 178_956_970

    /// Decodes JPEG bytes and hands the RGB pixels to `body` (valid only during the call).
    /// - Parameters:
    ///   - bytes: the file contents.
    ///   - name: file name for messages.
    ///   - minWidth, minHeight: if > 0, the smallest output size needed: the largest DCT scale
    ///     1/2, 1/4 or 1/8 that keeps both sides at least this large is used.
    ///   - body: receives `(height, width, 3)` bytes, the width and the height.
    /// - Throws: `DatasetError.corrupt` for a broken file, or what `body` throws.
    public static func decode<T>(_ bytes: UnsafeRawBufferPointer, name: String, minWidth: Int = 0, minHeight: Int = 0,
                                 _ body: (UnsafePointer<UInt8>, _ width: Int, _ height: Int) throws -> T) throws -> T {
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            throw DatasetError.corrupt(file: name, problem: "broken JPEG: empty file")
        }
        var pixels: UnsafeMutablePointer<UInt8>? = nil
        var width: Int32 = 0, height: Int32 = 0, colorSpace: Int32 = 0
        var warnings = 0
        var message = [CChar](repeating: 0, count: Int(JMSG_LENGTH_MAX))
        let status = rkan_jpeg_decode(base.assumingMemoryBound(to: UInt8.self), UInt(bytes.count),
                                      Int32(clamping: minWidth), Int32(clamping: minHeight), UInt64(maxPixels),
                                      &pixels, &width, &height, &colorSpace, &warnings, &message)
        defer { free(pixels) }
        guard status == 0, let pixels else {
            let text = String(cString: message)
            let problem: String
            switch status {
            case 2: problem = "out of memory decoding it"
            case 3: problem = "unsupported JPEG layout: \(text)"
            case 4: problem = "broken JPEG: the file is truncated (\(text))"
            case 5:
                let px = Int(width) * Int(height)
                problem = px > maxPixels
                    ? "its header says \(width)×\(height) = \(px) pixels, more than the \(maxPixels) accepted (PIL's decompression-bomb limit): "
                        + "a damaged or hostile file; replace it with the dataset's original"
                    : "its header says \(width)×\(height) pixels, more than its \(bytes.count) bytes can hold: the header is damaged; "
                        + "replace the file with the dataset's original"
            default: problem = "broken JPEG: \(text)"
            }
            throw DatasetError.corrupt(file: name, problem: problem)
        }
        return try body(pixels, Int(width), Int(height))
    }

    /// Decodes a JPEG file into a new array.
    /// - Returns: width, height and `(height, width, 3)` bytes.
    /// - Throws: `DatasetError.unreadable` or `.corrupt` naming the file.
    public static func decode(contentsOf url: URL, minWidth: Int = 0, minHeight: Int = 0) throws -> (width: Int, height: Int, pixels: [UInt8]) {
        let data = try DataRoot.read(url)
        return try data.withUnsafeBytes { raw in
            try decode(raw, name: url.path, minWidth: minWidth, minHeight: minHeight) { p, w, h in
                (w, h, Array(UnsafeBufferPointer(start: p, count: w * h * 3)))
            }
        }
    }

    /// Encodes pixels as a baseline JPEG (for tests and fixtures).
    /// - Parameters:
    ///   - pixels: `(height, width, components)` bytes; components 1 (grey), 3 (RGB) or 4 (CMYK,
    ///     written with an Adobe marker, i.e. stored the way Photoshop stores it).
    ///   - quality: 1–100.
    /// - Returns: the file contents.
    public static func encode(_ pixels: [UInt8], width: Int, height: Int, components: Int, quality: Int = 95) -> [UInt8] {
        precondition([1, 3, 4].contains(components) && pixels.count == width * height * components,
                     "JPEG.encode: \(pixels.count) bytes for \(width)×\(height)×\(components)")
        var out: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        var message = [CChar](repeating: 0, count: Int(JMSG_LENGTH_MAX))
        let status = rkan_jpeg_encode(pixels, Int32(width), Int32(height), Int32(components), Int32(quality), &out, &size, &message)
        defer { free(out) }
        precondition(status == 0 && out != nil, "JPEG.encode failed: \(String(cString: message))")
        return Array(UnsafeBufferPointer(start: out, count: Int(size)))
    }
}
