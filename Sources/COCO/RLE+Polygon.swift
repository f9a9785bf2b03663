import Foundation

/// Polygon and box rasterisation with pycocotools' semantics (`rleFrPoly`, `rleFrBbox`).
///
/// The algorithm, as pycocotools runs it: the vertices are scaled by 5 and rounded
/// (`Int(5·v + 0.5)`, truncating toward zero), each edge is walked one step at a time along its
/// longer axis (a DDA, rounding the other coordinate the same way), and at every step where the
/// upsampled x changes, the column crossed — when it falls on a whole pixel column of the image —
/// records the boundary row `ceil(clamp((y + 0.5)/5 − 0.5, 0, h))`. Sorting these column-major
/// indices and taking differences gives the RLE, the crossings toggling inside/outside (even-odd
/// rule). Every rounding step is reproduced in the same order and precision, which is what makes
/// the masks byte-identical.
extension RLE {
    /// The largest |coordinate| a polygon may have: the walk makes 5 points per pixel of
    /// perimeter, so coordinates are bounded before anything is allocated (COCO's own area
    /// ranges stop at 1e5 pixels a side).
    public static let maxCoordinate = 100_000.0

    /// The most boundary points one polygon may have after upsampling (5 per pixel of edge
    /// length): bounds the rasteriser's memory (16 bytes a point) for any input. A polygon in a
    /// 10,000-pixel-wide image has at most ~200,000.
    public static let maxWalk = 1 << 24

    /// The number of boundary points `RLE(polygon:)` walks for `xy` (coordinates within
    /// ±`maxCoordinate`).
    public static func walkLength(_ xy: [Double]) -> Int {
        let k = xy.count / 2
        guard k > 0 else { return 0 }
        func up(_ v: Double) -> Int { Int(5 * v + 0.5) }
        var total = 0
        for j in 0..<k {
            let n = (j + 1) % k
            total += max(abs(up(xy[2 * j]) - up(xy[2 * n])), abs(up(xy[2 * j + 1]) - up(xy[2 * n + 1]))) + 1
        }
        return total
    }

    /// Rasterises one polygon `[x0, y0, x1, y1, …]` (an odd trailing value is ignored, as
    /// pycocotools' `len(p)/2` does).
    /// - Precondition: every coordinate is finite and within ±`maxCoordinate`, and the walk at most
    ///   `maxWalk` points (the readers check both).
    public init(polygon xy: [Double], height: Int, width: Int) {
        self = xy.withUnsafeBufferPointer { RLE.fromPolygon($0, height: height, width: width) }
    }

    /// Rasterises a box `[x, y, w, h]` as the polygon of its corners (`rleFrBbox`).
    public init(box bb: [Double], height: Int, width: Int) {
        let xs = bb[0], xe = bb[0] + bb[2], ys = bb[1], ye = bb[1] + bb[3]
        self.init(polygon: [xs, ys, xs, ye, xe, ye, xe, ys], height: height, width: width)
    }

    /// The union of several polygons of one object (`merge(frPyObjects(polygons, h, w))`).
    public init(polygons: [[Double]], height: Int, width: Int) {
        self = RLE.merge(polygons.map { RLE(polygon: $0, height: height, width: width) })
    }

    static func fromPolygon(_ xy: UnsafeBufferPointer<Double>, height h: Int, width w: Int) -> RLE {
        let k = xy.count / 2
        let scale = 5.0
        precondition(xy.allSatisfy { $0.isFinite && abs($0) <= maxCoordinate }, "polygon coordinate out of range")
        precondition(walkLength(Array(xy)) <= maxWalk, "polygon perimeter out of range")
        // Upsampled vertices, closed.
        var x = [Int](repeating: 0, count: k + 1), y = [Int](repeating: 0, count: k + 1)
        for j in 0..<k {
            x[j] = Int(scale * xy[2 * j] + 0.5)
            y[j] = Int(scale * xy[2 * j + 1] + 0.5)
        }
        if k > 0 { x[k] = x[0]; y[k] = y[0] }
        // Dense boundary points.
        var total = 0
        for j in 0..<k { total += max(abs(x[j] - x[j + 1]), abs(y[j] - y[j + 1])) + 1 }
        var u = [Int](), v = [Int]()
        u.reserveCapacity(total); v.reserveCapacity(total)
        for j in 0..<k {
            var xs = x[j], xe = x[j + 1], ys = y[j], ye = y[j + 1]
            let dx = abs(xe - xs), dy = abs(ys - ye)
            let flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye)
            if flip { swap(&xs, &xe); swap(&ys, &ye) }
            if dx == 0 && dy == 0 {
                // A repeated vertex: the C code computes 0/0 and converts NaN to int, which is
                // INT_MIN on x86-64. The point shares its x with its neighbours, so it never
                // reaches the boundary pass; INT_MIN keeps even that case identical.
                u.append(xs); v.append(Int(Int32.min))
                continue
            }
            if dx >= dy {
                let s = Double(ye - ys) / Double(dx)
                for d in 0...dx {
                    let t = flip ? dx - d : d
                    u.append(t + xs)
                    v.append(Int(Double(ys) + s * Double(t) + 0.5))
                }
            } else {
                let s = Double(xe - xs) / Double(dy)
                for d in 0...dy {
                    let t = flip ? dy - d : d
                    v.append(t + ys)
                    u.append(Int(Double(xs) + s * Double(t) + 0.5))
                }
            }
        }
        // Boundary crossings on whole pixel columns, downsampled.
        var a: [UInt32] = []
        a.reserveCapacity(u.count / Int(scale) + 2)
        let lastColumn = Double(w - 1), hd = Double(h)
        if u.count > 1 {
            for j in 1..<u.count where u[j] != u[j - 1] {
                var xd = Double(u[j] < u[j - 1] ? u[j] : u[j] - 1)
                xd = (xd + 0.5) / scale - 0.5
                if xd.rounded(.down) != xd || xd < 0 || xd > lastColumn { continue }
                var yd = Double(v[j] < v[j - 1] ? v[j] : v[j - 1])
                yd = (yd + 0.5) / scale - 0.5
                if yd < 0 { yd = 0 } else if yd > hd { yd = hd }
                yd.round(.up)
                a.append(UInt32(truncatingIfNeeded: Int(xd) * h + Int(yd)))
            }
        }
        a.append(UInt32(truncatingIfNeeded: h * w))
        a.sort()
        var previous: UInt32 = 0
        for j in 0..<a.count { let t = a[j]; a[j] = t &- previous; previous = t }
        // Runs of length 0 cancel: the run after them joins the one before.
        var b: [UInt32] = [a[0]]
        var j = 1
        while j < a.count {
            if a[j] > 0 { b.append(a[j]); j += 1 } else {
                j += 1
                if j < a.count { b[b.count - 1] &+= a[j]; j += 1 }
            }
        }
        return RLE(height: h, width: w, counts: b)
    }
}
