import Foundation
import XCTest

/// Runs the built `rkan-repro` binary (end-to-end tests: stdout, stderr and the exit code).
enum CLI {
    /// The repository root (Tests/CLITests/CLI.swift → ../..).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The binary next to the test bundle (.build/<config>/rkan-repro).
    static var binary: URL {
        if let b = ProcessInfo.processInfo.environment["RKAN_BINARY"] { return URL(fileURLWithPath: b) }
        let bundle = Bundle(for: Marker.self).bundleURL
        let candidates = [bundle.appendingPathComponent("rkan-repro"), bundle.deletingLastPathComponent().appendingPathComponent("rkan-repro")]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }

    final class Marker {}

    struct Result {
        var code: Int32
        var killedBySignal: Bool
        var stdout: String
        var stderr: String
    }

    /// Runs the binary (or `executable`, e.g. mpirun) with `args` in `cwd` (default: the repository root).
    static func run(_ args: [String], env: [String: String] = [:], cwd: URL? = nil, executable: URL? = nil) throws -> Result {
        let p = Process()
        p.executableURL = executable ?? binary
        p.arguments = args
        p.currentDirectoryURL = cwd ?? root
        var e = ProcessInfo.processInfo.environment
        for (k, v) in env { e[k] = v }
        p.environment = e
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let r = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(code: p.terminationStatus, killedBySignal: p.terminationReason == .uncaughtSignal,
                      stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: r, as: UTF8.self))
    }

    /// A fresh temporary folder.
    static func tempFolder(_ name: String) throws -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("rkan-cli-\(name)-\(getpid())-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }

    /// A suites folder holding a tiny Fashion-MNIST suite (3 epochs of 3 steps per run).
    static func tinySuites(extra: String = "", model: String = "resnet18(stem=small)") throws -> URL {
        let dir = try tempFolder("suites")
        let yaml = """
        suite: tiny
        title: Tiny Fashion-MNIST
        source: test
        dataset: {name: fashion-mnist}
        protocol:
          epochs: 3
          batch_size: 64
          optimizer: {name: sgd, lr: 0.05, momentum: 0.9, nesterov: true, weight_decay: 5.0e-4}
          schedule: {name: warmup_cosine, warmup_epochs: 1, min_lr: 1.0e-5}
          label_smoothing: 0.1
          augment: {hflip: true, pad_crop: 2}
        profiles:
          t: {train_subset: 192, test_subset: 64, width: 0.125}
        seeds: [0]
        experiments:
          - {id: base, model: "\(model)"}
          - {id: rkan, model: "\(model)+rkan", baseline: base}
        \(extra)
        """
        try yaml.write(to: dir.appendingPathComponent("tiny.yaml"), atomically: true, encoding: .utf8)
        return dir
    }

    static var fashionMNISTInstalled: Bool {
        FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz")
    }
}
