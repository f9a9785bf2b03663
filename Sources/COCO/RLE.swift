/// A binary mask in COCO's run-length encoding, with pycocotools' semantics (`maskApi.c`).
///
/// Pixels are taken in column-major order (index `x·height + y`, as pycocotools' Fortran-order
/// arrays); `counts` alternate runs of 0s and 1s, starting with 0s (a mask starting with a 1 has
/// `counts[0] == 0`). A valid RLE's counts add up to `height · width`; the readers check that, so
/// the loops below (which, like pycocotools', would not end on counts that do not add up) only
/// ever see valid ones.
public struct RLE: Equatable, Sendable {
    public var height: Int
    public var width: Int
    /// Run lengths, 0s first. Stored as `UInt32` like pycocotools' `uint`.
    public var counts: [UInt32]

    public init(height: Int, width: Int, counts: [UInt32]) {
        self.height = height
        self.width = width
        self.counts = counts
    }

    /// The number of pixels the counts cover (`height · width` for a valid RLE).
    public var coveredPixels: Int { counts.reduce(0) { $0 + Int($1) } }

    /// Throws unless the counts cover exactly `height · width` pixels.
    /// - Parameter what: names the mask in the message (file and annotation id).
    public func validate(_ what: String) throws {
        let n = coveredPixels
        guard height >= 0, width >= 0, n == height * width else {
            throw COCOError.mask("\(what): RLE counts cover \(n) pixels but its size \(height)×\(width) has \(height * width)")
        }
    }

    // MARK: encode / decode

    /// Encodes a row-major `(height, width)` mask (nonzero = inside), as `rleEncode` on the
    /// column-major array pycocotools sees.
    public init(rowMajor mask: [UInt8], height: Int, width: Int) {
        precondition(mask.count == height * width, "RLE: \(mask.count) pixels for \(height)×\(width)")
        var counts: [UInt32] = []
        var previous: UInt8 = 0, run: UInt32 = 0
        for x in 0..<width {
            for y in 0..<height {
                let v: UInt8 = mask[y * width + x] != 0 ? 1 : 0
                if v != previous { counts.append(run); run = 0; previous = v }
                run += 1
            }
        }
        counts.append(run)
        self.init(height: height, width: width, counts: counts)
    }

    /// Decodes into a row-major `(height, width)` mask of 0/1 bytes (`decode`, transposed back
    /// from column-major). The RLE must be valid.
    public func decodeRowMajor() -> [UInt8] {
        var mask = [UInt8](repeating: 0, count: height * width)
        var index = 0, value: UInt8 = 0
        for c in counts {
            if value == 1 {
                for i in index..<(index + Int(c)) { mask[(i % height) * width + i / height] = 1 }
            }
            index += Int(c)
            value ^= 1
        }
        return mask
    }

    // MARK: area, box

    /// Pixels inside the mask: the sum of the odd runs (`rleArea`, wrapping like its `uint`).
    public var area: UInt32 {
        var a: UInt32 = 0
        var j = 1
        while j < counts.count { a &+= counts[j]; j += 2 }
        return a
    }

    /// The mask's box `[x, y, w, h]` as pycocotools ≥ 2.0.7's `rleToBbox`: a run that crosses a
    /// column boundary spans the full height; an empty mask gives the unsigned wrap-around that
    /// the C code gives (`w = 0 − width + 1` in `uint`), or zeros when it has fewer than 2 runs.
    public var boundingBox: [Double] {
        let h = UInt32(truncatingIfNeeded: height), w = UInt32(truncatingIfNeeded: width)
        let m = (counts.count / 2) * 2
        if m == 0 { return [0, 0, 0, 0] }
        var xs = w, ys = h, xe: UInt32 = 0, ye: UInt32 = 0, cc: UInt32 = 0
        for j in 0..<m {
            let start = cc
            cc &+= counts[j]
            if j % 2 == 0 || counts[j] == 0 { continue }
            let yStart = start % h, xStart = (start - yStart) / h
            let yEnd = (cc &- 1) % h, xEnd = (cc &- 1 &- yEnd) / h
            xs = min(xs, xStart)
            xe = max(xe, xEnd)
            if xStart < xEnd {
                ys = 0; ye = h &- 1
            } else {
                ys = min(ys, yStart); ye = max(ye, yEnd)
            }
        }
        return [Double(xs), Double(ys), Double(xe &- xs &+ 1), Double(ye &- ys &+ 1)]
    }

    // MARK: merge

    /// Union (or intersection) of masks of one size, as `rleMerge`: the result's runs are cut
    /// where the merged value changes. Masks of different sizes give an empty 0×0 RLE, as there.
    public static func merge(_ rles: [RLE], intersect: Bool = false) -> RLE {
        guard let first = rles.first else { return RLE(height: 0, width: 0, counts: []) }
        if rles.count == 1 { return first }
        let h = first.height, w = first.width
        var cnts = first.counts
        for b in rles.dropFirst() {
            if b.height != h || b.width != w { return RLE(height: 0, width: 0, counts: []) }
            let a = cnts
            cnts = []
            cnts.reserveCapacity(a.count + b.counts.count)
            var ca = a.first ?? 0, cb = b.counts.first ?? 0
            var v = false, va = false, vb = false
            var ia = 1, ib = 1
            var cc: UInt32 = 0, ct: UInt32 = 1
            while ct > 0 {
                let c = min(ca, cb)
                cc &+= c
                ct = 0
                ca -= c
                if ca == 0 && ia < a.count { ca = a[ia]; ia += 1; va.toggle() }
                ct &+= ca
                cb -= c
                if cb == 0 && ib < b.counts.count { cb = b.counts[ib]; ib += 1; vb.toggle() }
                ct &+= cb
                let vp = v
                v = intersect ? (va && vb) : (va || vb)
                if v != vp || ct == 0 { cnts.append(cc); cc = 0 }
            }
        }
        return RLE(height: h, width: w, counts: cnts)
    }
}
