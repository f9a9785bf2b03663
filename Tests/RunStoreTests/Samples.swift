import Foundation
import RunStore
import TestSupport
import XCTest

/// A run record with every field set (small tensors, one of each kind) and temp-folder helpers.
enum Samples {
    static func record(seed: Int = 3, scale: Float = 1) -> RunRecord {
        func floats(_ n: Int, _ s: UInt64) -> [Float] { testValues(n, seed: s).map { Float($0) * scale } }
        var attributes = RunAttributes(
            suite: "cifar100", experiment: "rkanet18", model: "resnet18(stem=small,width=0.25)+rkan",
            seed: seed, profile: "smoke", config: #"{"epochs":1,"lr":0.05,"name":"ünïcode ✓"}"#,
            gitCommit: "0123456789abcdef", blasCore: "Zen", threads: 2, host: "ci-host", status: .running)
        attributes.weightsSHA256 = ""
        let weights = [
            WeightEntry(key: "resnet.conv1.weight", shape: [4, 3, 3, 3], floats: floats(108, 1)),
            WeightEntry(key: "resnet.bn1.weight", shape: [4], floats: floats(4, 2)),
            WeightEntry(key: "resnet.bn1.running_var", shape: [4], floats: floats(4, 3).map { abs($0) + 1 }),
            WeightEntry(key: "resnet.bn1.num_batches_tracked", shape: [], int64s: [42]),
            WeightEntry(key: "kan_conv1.0.convs.0.conv.polynomial_weight", shape: [1, 9, 4], floats: floats(36, 4)),
            WeightEntry(key: "resnet.fc.weight", shape: [10, 4], floats: floats(40, 5)),
            WeightEntry(key: "resnet.fc.bias", shape: [10], floats: floats(10, 6)),
        ]
        let optimizer = [
            WeightEntry(key: "momentum.resnet.conv1.weight", shape: [4, 3, 3, 3], floats: floats(108, 7)),
            WeightEntry(key: "momentum.resnet.fc.bias", shape: [10], floats: floats(10, 8)),
        ]
        let state = RunState(epoch: 2, step: 17, values: ["data_order_epoch": 2, "best_epoch": -1],
                             rngCounters: ["augment": 123_456_789_012, "shuffle": UInt64.max - 5],
                             extraJSON: #"{"note":"resume"}"#)
        let metrics: [String: [Double]] = [
            "train_loss": [4.1, 3.2], "train_top1": [0.05, 0.11], "val_loss": [4.0, 3.5],
            "val_top1": [0.06, 0.1], "val_top5": [0.2, 0.31], "lr": [0.05, 0.0498],
            "epoch_seconds": [12.5, 12.25], "custom_metric": [1e-300, -0.0],
        ]
        let bench = [BenchEntry(name: "train_img_s", values: [19.5, 20.25, 19.75], batch: 128, size: 32),
                     BenchEntry(name: "infer_img_s", values: [61.0], batch: 256, size: 32)]
        return RunRecord(attributes: attributes, weights: weights, optimizer: optimizer, state: state,
                         metrics: metrics, bench: bench)
    }

    /// A fresh empty folder under the system temp folder.
    static func folder(_ name: String = #function) -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("rkan-runstore-tests-\(getpid())")
            .appendingPathComponent(name.filter { $0.isLetter || $0.isNumber } + "-" + UUID().uuidString)
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func bytes(_ url: URL) -> [UInt8] { [UInt8](FileManager.default.contents(atPath: url.path) ?? Data()) }
}

/// Runs an external tool; nil when it cannot be started.
func runTool(_ executable: String, _ arguments: [String]) -> (status: Int32, stdout: String, stderr: String)? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [executable] + arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    do { try process.run() } catch { return nil }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

/// Asserts that `body` throws a `RunStoreError` and returns it.
@discardableResult
func assertRunStoreError<T>(_ body: @autoclosure () throws -> T, _ what: String,
                            file: StaticString = #filePath, line: UInt = #line) -> RunStoreError? {
    do {
        _ = try body()
        XCTFail("\(what): expected a RunStoreError, nothing was thrown", file: file, line: line)
    } catch let error as RunStoreError {
        return error
    } catch {
        XCTFail("\(what): expected a RunStoreError, got \(error)", file: file, line: line)
    }
    return nil
}
