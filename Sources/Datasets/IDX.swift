import Foundation

/// The IDX format of MNIST and Fashion-MNIST (LeCun et al.), usually gzip-compressed.
///
/// Layout: a 4-byte magic `00 00 TT NN` (TT = element type, 0x08 for unsigned bytes; NN = number
/// of dimensions), then NN big-endian UInt32 sizes, then the elements in row-major order.
/// Images are `0x00000803` (count, rows, cols), labels `0x00000801` (count).
public enum IDX {
    /// Magic of an unsigned-byte image file (3 dimensions).
    public static let imageMagic: UInt32 = 0x0000_0803
    /// Magic of an unsigned-byte label file (1 dimension).
    public static let labelMagic: UInt32 = 0x0000_0801

    /// Parses an IDX header and checks that the payload has exactly the size it announces.
    /// - Parameters:
    ///   - bytes: the whole (decompressed) file.
    ///   - magic: the magic the caller expects.
    ///   - name: file name for messages.
    /// - Returns: the dimensions and the offset of the first element.
    /// - Throws: `DatasetError.corrupt` on a wrong magic, a short header or a size mismatch.
    public static func header(_ bytes: [UInt8], magic: UInt32, name: String) throws -> (dims: [Int], offset: Int) {
        func be32(_ at: Int) -> UInt32 {
            UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
        }
        guard bytes.count >= 4 else {
            throw DatasetError.corrupt(file: name, problem: "IDX file of \(bytes.count) bytes has no header")
        }
        let found = be32(0)
        guard found == magic else {
            let kind = magic == imageMagic ? "an image file" : "a label file"
            throw DatasetError.corrupt(file: name, problem: String(format: "wrong IDX magic 0x%08X, expected 0x%08X (%@)", found, magic, kind))
        }
        let ndims = Int(magic & 0xff)
        let offset = 4 + 4 * ndims
        guard bytes.count >= offset else {
            throw DatasetError.corrupt(file: name, problem: "IDX header truncated (\(bytes.count) bytes, \(offset) needed)")
        }
        let dims = (0..<ndims).map { Int(be32(4 + 4 * $0)) }
        // The product of the dimensions is bounded by the bytes the file holds before it is
        // formed, so a header of huge dimensions cannot overflow it.
        guard let expected = boundedProduct(dims, limit: bytes.count) else {
            throw DatasetError.corrupt(file: name, problem: "IDX dimensions \(dims) announce more bytes of data than the file's \(bytes.count - offset)")
        }
        guard bytes.count - offset == expected else {
            throw DatasetError.corrupt(file: name, problem: "IDX dimensions \(dims) announce \(expected) bytes of data, the file holds \(bytes.count - offset)")
        }
        return (dims, offset)
    }

    /// Reads a gzip-compressed IDX image file.
    /// - Returns: the count, rows, columns and `(count, rows, cols)` pixel bytes.
    /// - Throws: `DatasetError` naming the file on any problem.
    public static func readImages(_ url: URL) throws -> (count: Int, rows: Int, cols: Int, pixels: [UInt8]) {
        var bytes = try Gzip.decompress(contentsOf: url)
        let (dims, offset) = try header(bytes, magic: imageMagic, name: url.path)
        bytes.removeFirst(offset)
        return (dims[0], dims[1], dims[2], bytes)
    }

    /// Reads a gzip-compressed IDX label file.
    /// - Returns: the labels.
    /// - Throws: `DatasetError` naming the file on any problem.
    public static func readLabels(_ url: URL) throws -> [Int32] {
        let bytes = try Gzip.decompress(contentsOf: url)
        let (_, offset) = try header(bytes, magic: labelMagic, name: url.path)
        return bytes[offset...].map { Int32($0) }
    }

    /// Encodes an unsigned-byte IDX file (uncompressed; gzip it with `Gzip.compress`).
    /// - Parameters:
    ///   - dims: sizes, outermost first (1 for labels, 3 for images).
    ///   - payload: the elements, row-major; count must equal the product of `dims`.
    public static func encode(dims: [Int], payload: [UInt8]) -> [UInt8] {
        precondition(payload.count == dims.reduce(1, *), "IDX payload \(payload.count) for dims \(dims)")
        var out: [UInt8] = [0, 0, 0x08, UInt8(dims.count)]
        for d in dims { out += [UInt8(d >> 24 & 0xff), UInt8(d >> 16 & 0xff), UInt8(d >> 8 & 0xff), UInt8(d & 0xff)] }
        return out + payload
    }
}
