/// An append-only array stored in chunks of 2^20 elements.
///
/// A Swift array that grows by doubling copies itself at each step, so for a moment it holds
/// the old and the new buffer (three times the data at the last step): for the 34 million
/// polygon coordinates of COCO's train annotations that step alone is ~800 MB. Chunks never
/// move, so the reader's peak memory is the data itself.
public struct Column<Element: Sendable>: Sendable {
    static var shift: Int { 20 }
    static var chunkSize: Int { 1 << shift }
    private var chunks: [[Element]] = []
    public private(set) var count = 0

    public init() {}

    public var isEmpty: Bool { count == 0 }

    @inline(__always)
    public mutating func append(_ v: Element) {
        if count & (Self.chunkSize - 1) == 0 {
            var c: [Element] = []
            c.reserveCapacity(Self.chunkSize)
            chunks.append(c)
        }
        chunks[chunks.count - 1].append(v)
        count += 1
    }

    public mutating func append<S: Sequence>(contentsOf values: S) where S.Element == Element {
        for v in values { append(v) }
    }

    public subscript(i: Int) -> Element {
        precondition(i >= 0 && i < count, "Column: index \(i) out of 0..<\(count)")
        return chunks[i >> Self.shift][i & (Self.chunkSize - 1)]
    }

    /// Elements `r` as an array.
    public subscript(r: Range<Int>) -> [Element] {
        precondition(r.lowerBound >= 0 && r.upperBound <= count, "Column: range \(r) out of 0..<\(count)")
        var out: [Element] = []
        out.reserveCapacity(r.count)
        var i = r.lowerBound
        while i < r.upperBound {
            let c = i >> Self.shift, o = i & (Self.chunkSize - 1)
            let n = min(r.upperBound - i, Self.chunkSize - o)
            out.append(contentsOf: chunks[c][o..<(o + n)])
            i += n
        }
        return out
    }

    public var last: Element? { count == 0 ? nil : self[count - 1] }
}
