import Foundation

/// One tensor of a PyTorch fixture (PyTorch layout: NCHW activations, OIHW conv weights).
public struct FixtureTensor: Decodable {
    public let shape: [Int]
    public let data: [Float]
}

/// One case of a fixture file written by a generator in `Tools/fixtures/` (`common.py`'s format).
public struct FixtureCase: Decodable {
    public let name: String
    /// Op settings (stride, padding, groups, ...), numbers only.
    public let config: [String: Double]
    public let tensors: [String: FixtureTensor]

    public func tensor(_ key: String) -> FixtureTensor {
        guard let t = tensors[key] else { fatalError("fixture case \(name) has no tensor \(key)") }
        return t
    }
    public func int(_ key: String) -> Int {
        guard let v = config[key] else { fatalError("fixture case \(name) has no config \(key)") }
        return Int(v)
    }
}

/// The folder of the committed test fixtures (`Tests/Fixtures`): every test target reads its
/// fixtures from here, and the `Tools/` scripts that make them write here.
public let fixturesFolder = packageRoot.appendingPathComponent("Tests/Fixtures", isDirectory: true)

/// Loads `Tests/Fixtures/<area>/<name>.json` (default area `engine`).
/// - Throws: when the file is missing (a fixture is part of the repository: regenerate it with the
///   `Tools/fixtures` script named in the message) or does not decode.
public func loadFixtureCases(_ name: String, area: String = "engine") throws -> [FixtureCase] {
    let url = fixturesFolder.appendingPathComponent("\(area)/\(name).json")
    guard FileManager.default.fileExists(atPath: url.path) else {
        throw NSError(domain: "fixtures", code: 1, userInfo: [NSLocalizedDescriptionKey:
            "fixture \(url.path) not found; regenerate it with its generator in Tools/fixtures/ (`python3 -m Tools.fixtures.NAME`, listed in Tools/README.md)"])
    }
    return try JSONDecoder().decode([FixtureCase].self, from: Data(contentsOf: url))
}
