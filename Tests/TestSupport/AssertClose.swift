import XCTest

/// Compares `actual` with `expected` elementwise: passes when every |a − e| ≤ atol + rtol·|e|.
/// On failure reports the max absolute and relative error and the first mismatches (llm.c style).
public func assertClose(_ actual: [Float], _ expected: [Float], rtol: Float = 1e-5, atol: Float = 1e-6,
                        _ what: String = "", file: StaticString = #filePath, line: UInt = #line) {
    assertClose(actual.map(Double.init), expected.map(Double.init), rtol: Double(rtol), atol: Double(atol),
                what, file: file, line: line)
}

public func assertClose(_ actual: [Double], _ expected: [Double], rtol: Double = 1e-9, atol: Double = 1e-12,
                        _ what: String = "", file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == expected.count else {
        XCTFail("\(what): \(actual.count) values, expected \(expected.count)", file: file, line: line)
        return
    }
    var maxAbs = 0.0, maxRel = 0.0, bad: [String] = []
    var nBad = 0
    for i in 0..<actual.count {
        let a = actual[i], e = expected[i]
        let d = abs(a - e)
        if !(d <= atol + rtol * abs(e)) || a.isNaN != e.isNaN {
            nBad += 1
            if bad.count < 5 { bad.append("[\(i)] \(a) vs \(e)") }
        }
        maxAbs = max(maxAbs, d)
        if e != 0 { maxRel = max(maxRel, d / abs(e)) }
    }
    if nBad > 0 {
        XCTFail("\(what): \(nBad)/\(actual.count) mismatches (rtol \(rtol), atol \(atol)); max abs err \(maxAbs), max rel err \(maxRel); first: \(bad.joined(separator: ", "))",
                file: file, line: line)
    }
}

/// Max |a−e| / max|e|: the "relative error" used for parity reports.
public func relativeError(_ actual: [Float], _ expected: [Float]) -> Double {
    precondition(actual.count == expected.count)
    var num = 0.0, den = 0.0
    for i in 0..<actual.count {
        num = max(num, abs(Double(actual[i]) - Double(expected[i])))
        den = max(den, abs(Double(expected[i])))
    }
    return den == 0 ? num : num / den
}
