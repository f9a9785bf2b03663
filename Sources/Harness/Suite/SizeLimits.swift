import Foundation

/// Upper bounds on every size a user can give (suite files, `models`, `bench`, `forward`),
/// checked before anything is allocated, so a typo such as `--size 100000` is an error naming
/// the limit and the fix instead of an allocation failure (SIGILL/SIGABRT).
public enum SizeLimits {
    /// Largest image side in pixels (the paper's largest is 224).
    public static let imageSide = 4096
    /// Largest batch.
    public static let batch = 65_536
    /// Most classes (ImageNet-21k has 21,841).
    public static let classes = 100_000
    /// Most input channels.
    public static let inChannels = 64
    /// Largest input batch tensor, in bytes: a quarter of the physical memory.
    public static var inputBytes: Int { Int(ProcessInfo.processInfo.physicalMemory / 4) }

    /// Checks one size against `range`.
    /// - Parameters:
    ///   - value: the size.
    ///   - name: the option or key, e.g. `--size`.
    ///   - range: allowed values.
    ///   - fix: what to do, e.g. `pass a smaller --size`.
    /// - Throws: `HarnessError.badConfig` naming the value, the limit and the fix.
    public static func check(_ value: Int, _ name: String, in range: ClosedRange<Int>, fix: String) throws {
        guard range.contains(value) else {
            // `fix` says how to shrink a value; one below the range needs the opposite advice.
            throw HarnessError.badConfig(what: "\(name) \(value)", detail: "\(name) must be from \(range.lowerBound) to \(range.upperBound); "
                + (value < range.lowerBound ? "it is \(value), so there is nothing to compute: give at least \(range.lowerBound)" : fix))
        }
    }

    /// Checks classes, input channels, batch and image side, and that one input batch
    /// (`batch × side² × channels` float32) fits in `inputBytes`.
    /// - Parameters:
    ///   - classes: classifier outputs (nil: not checked).
    ///   - inChannels: input channels.
    ///   - batch: images per batch.
    ///   - side: image side (square images; pass the larger side otherwise).
    ///   - names: the option names for messages, e.g. `["--classes", "--in-channels", "--batch", "--size"]`.
    /// - Throws: `HarnessError.badConfig` with the limit and the fix.
    public static func checkModelInput(classes: Int?, inChannels: Int, batch: Int, side: Int,
                                       names: (classes: String, inChannels: String, batch: String, side: String)) throws {
        if let classes { try check(classes, names.classes, in: 1...Self.classes, fix: "pass the number of classes of the dataset") }
        try check(inChannels, names.inChannels, in: 1...Self.inChannels, fix: "pass 1 (grey) or 3 (RGB)")
        try check(batch, names.batch, in: 1...Self.batch, fix: "pass a smaller \(names.batch)")
        try check(side, names.side, in: 1...imageSide, fix: "pass a smaller \(names.side)")
        let bytes = batch.multipliedReportingOverflow(by: side * side * inChannels * 4)
        guard !bytes.overflow, bytes.partialValue <= inputBytes else {
            throw HarnessError.badConfig(what: "\(names.batch) \(batch) at \(names.side) \(side)", detail:
                "one input batch of \(batch)×\(inChannels)×\(side)×\(side) float32 needs more than the \(inputBytes >> 20) MiB "
                + "allowed (a quarter of this machine's memory); pass a smaller \(names.batch) or \(names.side)")
        }
    }
}
