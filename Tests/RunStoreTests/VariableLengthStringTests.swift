import Foundation
import RunStore
import XCTest

/// Variable-length strings are read only on request (a corrupted one crashes HDF5).
final class HDF5VariableLengthStringTests: XCTestCase {
    func testVariableLengthStringsAreReadOnlyWhenAllowed() throws {
        let path = Samples.folder().appendingPathComponent("v.h5").path
        let f = try HDF5File.create(path)
        try f.setAttribute("v", .string("vlen ✓"), strings: .variable)
        try f.setAttribute("f", .string("fixed ✓"))
        try f.close()
        let r = try HDF5File.openReadOnly(path)
        XCTAssertEqual(try r.attribute("f"), .string("fixed ✓"))
        XCTAssertThrowsError(try r.attribute("v")) { error in
            guard case RunStoreError.wrongType = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(try r.attribute("v", allowVariableLength: true), .string("vlen ✓"))
    }
}
