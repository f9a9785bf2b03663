import Foundation
import XCTest

/// What a test needs from the machine (a Debian package, a running Slurm cluster, root).
///
/// A missing prerequisite fails the test: CI and `scripts/test.sh` install and start everything
/// the tests need, so a skip would hide a broken set-up. A developer who opts out on purpose sets
/// `RKAN_ALLOW_SKIPS=1`; the test is then skipped with the same message, and `scripts/test.sh`
/// prints how many were skipped and why.
public enum Prerequisite {
    /// True when the developer allowed skips for missing prerequisites.
    public static var skipsAllowed: Bool { ProcessInfo.processInfo.environment["RKAN_ALLOW_SKIPS"] == "1" }

    /// Fails (or, with `RKAN_ALLOW_SKIPS=1`, skips) unless `available`.
    /// - Parameters:
    ///   - available: whether the prerequisite is there.
    ///   - what: what is missing, e.g. "Fashion-MNIST (/usr/share/datasets/fashion-mnist)".
    ///   - fix: how to get it, e.g. "run scripts/setup.sh".
    public static func require(_ available: Bool, _ what: @autoclosure () -> String, fix: @autoclosure () -> String) throws {
        if available { return }
        let message = "missing prerequisite: \(what()); \(fix())"
        if skipsAllowed { throw XCTSkip(message + " (skipped: RKAN_ALLOW_SKIPS=1)") }
        throw Missing(description: message + ". Tests never skip for a missing prerequisite; set RKAN_ALLOW_SKIPS=1 to skip on purpose")
    }

    /// The error that fails a test whose prerequisite is missing.
    public struct Missing: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// Fashion-MNIST from Debian's `dataset-fashion-mnist`.
    public static func fashionMNIST() throws {
        try require(FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz"),
                    "Fashion-MNIST (/usr/share/datasets/fashion-mnist)", fix: "run scripts/setup.sh (installs dataset-fashion-mnist)")
    }
}
