import Foundation
import XCTest
import TestSupport

/// The committed fixtures of `Tools/coco/*.py` (pycocotools' answers), read as plain JSON.
enum FixtureFile {
    static let folder = fixturesFolder.appendingPathComponent("coco", isDirectory: true)

    /// The parsed JSON object of `Tests/Fixtures/coco/<name>`; a missing file fails the test with the fix.
    static func object(_ name: String, regenerate: String) throws -> [String: Any] {
        let url = folder.appendingPathComponent(name)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            XCTFail("fixture \(url.path) is missing; regenerate it with `\(regenerate)`")
            throw CocoaError(.fileNoSuchFile)
        }
        guard let o = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            XCTFail("fixture \(url.path) is not a JSON object")
            throw CocoaError(.fileReadCorruptFile)
        }
        return o
    }
}

extension Dictionary where Key == String, Value == Any {
    func int(_ k: String) -> Int { (self[k] as! NSNumber).intValue }
    func string(_ k: String) -> String { self[k] as! String }
    func ints(_ k: String) -> [Int] { (self[k] as! [NSNumber]).map(\.intValue) }
    func doubles(_ k: String) -> [Double] { (self[k] as! [NSNumber]).map(\.doubleValue) }
    func strings(_ k: String) -> [String] { self[k] as! [String] }
    func objects(_ k: String) -> [[String: Any]] { self[k] as! [[String: Any]] }
}

/// A hex float (`float.hex()` in Python) as a Double, exactly.
func hexDouble(_ s: String) -> Double {
    guard let v = Double(s) else { fatalError("not a hex float: \(s)") }
    return v
}
