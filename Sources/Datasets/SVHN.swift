import Foundation

/// SVHN (Street View House Numbers, cropped digits, 32×32 RGB) from its official MAT-files:
///
///     svhn/train_32x32.mat    X (32, 32, 3, 73257) uint8, y (73257, 1) labels 1…10
///     svhn/test_32x32.mat     X (32, 32, 3, 26032) uint8, y (26032, 1)
///
/// `X[r, c, ch, n]` is row r, column c of image n (MATLAB column-major); label 10 means the
/// digit 0, as torchvision's `SVHN` maps it. Loaded into memory (train: 225 MB).
public enum SVHN {
    public static let folderName = "svhn"
    public static let hint = "download http://ufldl.stanford.edu/housenumbers/train_32x32.mat and test_32x32.mat into DATA/svhn/ (or pass --data DIR)"
    /// Channel statistics used by the reference training script.
    public static let mean: [Float] = [0.4377, 0.4438, 0.4728]
    public static let std: [Float] = [0.1980, 0.2010, 0.1970]

    /// The MAT-file of a split.
    public static func fileName(_ split: Split) -> String { split == .train ? "train_32x32.mat" : "test_32x32.mat" }

    /// Loads one split.
    /// - Parameters:
    ///   - folder: a data root holding `svhn/`, or the folder with the `.mat` files; `nil` for `DataRoot.default`.
    ///   - split: `.train` (73 257 images) or `.test` (26 032).
    /// - Returns: an in-memory dataset of `(N, 32, 32, 3)` bytes, labels 0…9.
    /// - Throws: `DatasetError.missing` when the file is absent, `.corrupt` naming the file for a
    ///   malformed MAT-file, missing or misshapen `X`/`y`, or a label outside 1…10.
    public static func load(folder: URL? = nil, split: Split) throws -> InMemoryDataset {
        let root = folder ?? DataRoot.default
        let sub = root.appendingPathComponent(folderName, isDirectory: true)
        let name = fileName(split)
        let dir = DataRoot.isFile(sub.appendingPathComponent(name)) ? sub : root
        let url = dir.appendingPathComponent(name)
        guard DataRoot.isFile(url) else {
            throw DatasetError.missing(dataset: "svhn", folder: DataRoot.isDirectory(sub) ? sub.path : "\(root.path) (no \(folderName)/ inside)",
                                       expected: ["\(folderName)/\(name)"], hint: hint)
        }
        let vars = try MATFile.read(url)
        guard let x = vars["X"], let y = vars["y"] else {
            throw DatasetError.corrupt(file: url.path, problem: "expected numeric arrays X and y, found \(vars.keys.sorted())")
        }
        guard x.dims.count == 4, x.dims[0] == 32, x.dims[1] == 32, x.dims[2] == 3 else {
            throw DatasetError.corrupt(file: url.path, problem: "X has shape \(x.dims), expected (32, 32, 3, N)")
        }
        let n = x.dims[3]
        guard y.count == n, y.dims.filter({ $0 != 1 }).count <= 1 else {
            throw DatasetError.corrupt(file: url.path, problem: "y has shape \(y.dims), expected (\(n), 1) for \(n) images")
        }
        var labels = [Int32](repeating: 0, count: n)
        for i in 0..<n {
            let v = y.value(i)
            guard v >= 1 && v <= 10 && v == v.rounded() else {
                throw DatasetError.corrupt(file: url.path, problem: "y[\(i)] = \(v) is not a label in 1…10")
            }
            labels[i] = Int32(v) % 10
        }
        let pixels = try hwc(x, file: url.path)
        return try InMemoryDataset(name: "svhn/\(split.rawValue)", classes: 10, channels: 3, height: 32, width: 32,
                                   pixels: pixels, labels: labels)
    }

    /// `(32, 32, 3, N)` column-major values to `(N, 32, 32, 3)` bytes.
    static func hwc(_ x: MATFile.Variable, file: String) throws -> [UInt8] {
        let n = x.dims[3], plane = 1024
        var out = [UInt8](repeating: 0, count: n * 3072)
        guard x.dataType == 2 else {
            // Another storage type (e.g. double): convert value by value, checking the range.
            for i in 0..<x.count {
                let v = x.value(i)
                guard v >= 0 && v <= 255 && v == v.rounded() else {
                    throw DatasetError.corrupt(file: file, problem: "X value \(v) at element \(i) is not a byte")
                }
                let (img, rest) = i.quotientAndRemainder(dividingBy: 3072)
                let (ch, rc) = rest.quotientAndRemainder(dividingBy: plane)
                out[img * 3072 + ((rc % 32) * 32 + rc / 32) * 3 + ch] = UInt8(v)
            }
            return out
        }
        x.data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for img in 0..<n {
                    let s = src.baseAddress! + img * 3072, d = dst.baseAddress! + img * 3072
                    for ch in 0..<3 {
                        for c in 0..<32 {
                            for r in 0..<32 { d[(r * 32 + c) * 3 + ch] = s[ch * plane + c * 32 + r] }
                        }
                    }
                }
            }
        }
        return out
    }
}
