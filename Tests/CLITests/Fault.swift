import Foundation
import XCTest
import TestSupport
import RunStore

/// Helpers of the fault-injection tests: a trained tiny output folder to damage, bit flips at
/// a dataset's stored values or at given bytes, and a snapshot of every file outside the output
/// folder (a failing command must not change any of them).
enum Fault {
    /// A test root holding `suites/tiny.yaml` (CLI.tinySuites, 2 epochs) and `out/` with both
    /// runs of profile `t` finished, trained once per test process and copied for each test.
    static func trainedRoot(file: StaticString = #filePath, line: UInt = #line) throws -> URL {
        let root = try CLI.tempFolder("fault")
        try FileManager.default.copyItem(at: try template(), to: root.appendingPathComponent("t"))
        return root.appendingPathComponent("t")
    }

    nonisolated(unsafe) private static var trained: URL?

    private static func template() throws -> URL {
        if let t = trained { return t }
        let root = try CLI.tempFolder("fault-template")
        let suites = root.appendingPathComponent("suites")
        try FileManager.default.moveItem(at: try CLI.tinySuites(), to: suites)
        let yaml = suites.appendingPathComponent("tiny.yaml")
        try (try String(contentsOf: yaml, encoding: .utf8)).replacingOccurrences(of: "epochs: 3", with: "epochs: 2")
            .write(to: yaml, atomically: true, encoding: .utf8)
        let r = try CLI.run(["run", "tiny", "--profile", "t", "--suites", suites.path, "--out", root.appendingPathComponent("out").path,
                             "--threads", "2"])
        guard r.code == 0 else {
            throw Prerequisite.Missing(description: "the tiny training every fault test starts from failed (exit \(r.code)): \(r.stderr)")
        }
        trained = root
        return root
    }

    /// `--suites S --out/--runs O` of a root.
    static func suites(_ root: URL) -> String { root.appendingPathComponent("suites").path }
    static func out(_ root: URL) -> URL { root.appendingPathComponent("out") }
    static func runFile(_ root: URL, _ id: String = "base", seed: Int = 0) -> URL {
        out(root).appendingPathComponent("tiny/t/\(id)/seed-\(seed).h5")
    }

    /// Flips the lowest bit of the first stored byte of dataset `object`.
    static func flipData(_ file: URL, _ object: String) throws {
        let f = try HDF5File.openReadOnly(file.path)
        let at = try XCTUnwrap(try f.dataOffset(object), object)
        try f.close()
        try flip(file, at: at)
    }

    /// Flips a bit in the values of the last dataset of `group` that has stored values (the
    /// tests do not depend on the state-dict key names).
    static func flipInGroup(_ file: URL, _ group: String) throws {
        let f = try HDF5File.openReadOnly(file.path)
        var at: Int?
        for name in try f.members(of: group).reversed() where at == nil { at = try f.dataOffset("\(group)/\(name)") }
        try f.close()
        try flip(file, at: try XCTUnwrap(at, group))
    }

    /// Flips the lowest bit of the first byte of the first occurrence of `text`.
    static func flipText(_ file: URL, _ text: String) throws {
        let bytes = [UInt8](try Data(contentsOf: file)), needle = Array(text.utf8)
        let at = try XCTUnwrap((0...(bytes.count - needle.count)).first { bytes[$0..<$0 + needle.count].elementsEqual(needle) }, text)
        try flip(file, at: at)
    }

    static func flip(_ file: URL, at offset: Int) throws {
        var bytes = [UInt8](try Data(contentsOf: file))
        bytes[offset] ^= 0x01
        try Data(bytes).write(to: file)
    }

    /// Path → content of every regular file under `root` outside `except`.
    static func snapshot(_ root: URL, except: URL) -> [String: Data] {
        var files: [String: Data] = [:]
        let skip = except.standardizedFileURL.path + "/"
        for case let rel as String in FileManager.default.enumerator(atPath: root.path) ?? .init() {
            let path = root.appendingPathComponent(rel).standardizedFileURL.path
            var isFolder: ObjCBool = false
            guard !(path + "/").hasPrefix(skip), FileManager.default.fileExists(atPath: path, isDirectory: &isFolder),
                  !isFolder.boolValue else { continue }
            files[path] = FileManager.default.contents(atPath: path)
        }
        return files
    }

    /// The command in backticks of an error message (the advised fix), split into arguments.
    static func advisedCommand(_ message: String) -> [String]? {
        let parts = message.components(separatedBy: "`")
        guard parts.count >= 3 else { return nil }
        let words = parts[1].split(separator: " ").map { String($0).trimmingCharacters(in: CharacterSet(charactersIn: "'")) }
        return words.first == "rkan-repro" ? Array(words.dropFirst()) : nil
    }
}
