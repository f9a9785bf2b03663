import Foundation

/// A CIFAR-100 data folder in the official binary layout, with random pixels: `cifar-100-binary/`
/// holding `train.bin` and `test.bin`, each record 1 coarse-label byte, 1 fine-label byte and
/// 3072 pixel bytes (R, G, B planes of 32×32).
enum CIFAR100Fixture {
    /// Writes the folder.
    /// - Parameters:
    ///   - root: The data root (`--data DIR`); `cifar-100-binary/` is created inside.
    ///   - train: Training records; fine labels cycle through 0..<100 so every class is present.
    ///   - test: Test records, labelled the same way.
    ///   - seed: Seed of the pixel generator.
    /// - Throws: file-system errors.
    static func write(root: URL, train: Int = 500, test: Int = 200, seed: UInt64 = 7) throws {
        let folder = root.appendingPathComponent("cifar-100-binary", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var state = seed
        for (name, count) in [("train.bin", train), ("test.bin", test)] {
            var bytes = [UInt8](repeating: 0, count: count * 3074)
            for r in 0..<count {
                let fine = r % 100
                bytes[r * 3074] = UInt8(fine / 5)  // coarse label: 20 superclasses
                bytes[r * 3074 + 1] = UInt8(fine)
                for i in 0..<3072 {
                    // xorshift64: deterministic noise, no Foundation randomness.
                    state ^= state << 13; state ^= state >> 7; state ^= state << 17
                    bytes[r * 3074 + 2 + i] = UInt8(truncatingIfNeeded: state >> 24)
                }
            }
            try Data(bytes).write(to: folder.appendingPathComponent(name))
        }
    }
}
