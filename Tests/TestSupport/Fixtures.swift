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

/// Loads `<name>.json` from a test bundle's `Fixtures` folder.
public func loadFixtureCases(_ name: String, bundle: Bundle) throws -> [FixtureCase] {
    guard let url = bundle.url(forResource: name, withExtension: "json", subdirectory: "Fixtures") else {
        throw NSError(domain: "fixtures", code: 1, userInfo: [NSLocalizedDescriptionKey:
            "fixture \(name).json not found; regenerate it with its generator in Tools/fixtures/ (`python3 -m Tools.fixtures.NAME`, listed in Tools/README.md)"])
    }
    return try JSONDecoder().decode([FixtureCase].self, from: Data(contentsOf: url))
}
