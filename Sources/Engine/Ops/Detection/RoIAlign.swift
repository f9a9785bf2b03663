// RoIAlign (Mask R-CNN's feature crop), torchvision.ops.roi_align semantics, on NHWC features.
// Layout letters: N images, H height, W width, C channels, K regions, P output side.

/// Settings of one `roi_align` call on one feature map.
public struct RoIAlignGeometry: Equatable, Sendable {
    /// Feature map (N, H, W, C).
    public let batch, height, width, channels: Int
    /// Output cells per region (torchvision's `output_size`): 7×7 for the box head, 14×14 for masks.
    public let outHeight, outWidth: Int
    /// Feature pixels per image pixel (1/4 for the stride-4 level).
    public let spatialScale: Float
    /// Bilinear samples per cell along each axis; ≤ 0 means adaptive, ceil(region side / P).
    public let samplingRatio: Int
    /// torchvision's `aligned`: shift by half a pixel (MultiScaleRoIAlign uses false).
    public let aligned: Bool

    public init(batch: Int, height: Int, width: Int, channels: Int, outHeight: Int, outWidth: Int,
                spatialScale: Float, samplingRatio: Int, aligned: Bool = false) {
        self.batch = batch; self.height = height; self.width = width; self.channels = channels
        self.outHeight = outHeight; self.outWidth = outWidth
        self.spatialScale = spatialScale; self.samplingRatio = samplingRatio; self.aligned = aligned
    }

    public var inputShape: [Int] { [batch, height, width, channels] }
    /// (K, P, P, C) for `regions` regions.
    public func outputShape(regions: Int) -> [Int] { [regions, outHeight, outWidth, channels] }

    /// Checks a feature shape (NHWC) and the option values; returns the geometry.
    /// - Throws: `EngineError` naming the shape or option that does not fit.
    public static func checked(featureShape s: [Int], outHeight: Int, outWidth: Int, spatialScale: Float,
                               samplingRatio: Int, aligned: Bool = false) throws -> RoIAlignGeometry {
        guard s.count == 4, s[1] > 0, s[2] > 0 else {
            throw EngineError.shapeMismatch(op: "roi_align", detail: "features must be a non-empty (N, H, W, C) tensor, got \(shapeString(s))")
        }
        guard outHeight > 0, outWidth > 0, spatialScale > 0, spatialScale.isFinite else {
            throw EngineError.invalidArgument(op: "roi_align", detail: "output size \(outHeight)×\(outWidth) and spatial scale \(spatialScale) must be positive")
        }
        return RoIAlignGeometry(batch: s[0], height: s[1], width: s[2], channels: s[3], outHeight: outHeight,
                                outWidth: outWidth, spatialScale: spatialScale, samplingRatio: samplingRatio, aligned: aligned)
    }
}

/// The bilinear samples of a set of regions: for each region, cell by cell (row-major), its
/// gridH × gridW sample points, each with four pixel indices (`y·W + x` within the image) and
/// four weights. Shared by every channel, so it is made once per call.
///
/// Arithmetic in Float in torchvision's order (roi_align_kernel.cpp): start = x1·scale (− ½ when
/// aligned); side = max(end − start, 1) when not aligned; bin = side / P; sample
/// y = (start_y + ph·bin_h) + (iy + ½)·bin_h / grid_h; a sample outside [−1, H] × [−1, W] has
/// weight 0; otherwise y, x are clamped to ≥ 0 and to the last row / column.
struct RoISamples {
    /// Per region: first sample, grid sides, image, divisor (max(gridH·gridW, 1)).
    var first: [Int] = [], gridH: [Int] = [], gridW: [Int] = [], image: [Int] = [], count: [Float] = []
    /// 4 per sample: pixel index of (y_low, x_low), (y_low, x_high), (y_high, x_low), (y_high, x_high).
    var pixel: [Int32] = []
    /// 4 per sample, the matching bilinear weights.
    var weight: [Float] = []
    /// Per sample: whether it lies in the map (torchvision's backward skips the others).
    var inside: [Bool] = []

    /// - Parameters:
    ///   - rois: (K, 5) rows `(image, x1, y1, x2, y2)` in image pixels.
    ///   - regions: K.
    init(rois: UnsafePointer<Float>, regions: Int, _ g: RoIAlignGeometry) {
        let (H, W, P, Q) = (g.height, g.width, g.outHeight, g.outWidth)
        for k in 0..<regions {
            let r = rois + 5 * k
            let offset: Float = g.aligned ? 0.5 : 0
            let startW = r[1] * g.spatialScale - offset, startH = r[2] * g.spatialScale - offset
            let endW = r[3] * g.spatialScale - offset, endH = r[4] * g.spatialScale - offset
            var roiW = endW - startW, roiH = endH - startH
            if !g.aligned { roiW = max(roiW, 1); roiH = max(roiH, 1) }
            let binH = roiH / Float(P), binW = roiW / Float(Q)
            let gh = g.samplingRatio > 0 ? g.samplingRatio : Int((roiH / Float(P)).rounded(.up))
            let gw = g.samplingRatio > 0 ? g.samplingRatio : Int((roiW / Float(Q)).rounded(.up))
            first.append(inside.count); gridH.append(gh); gridW.append(gw)
            image.append(Int(r[0])); count.append(Float(max(gh * gw, 1)))
            for ph in 0..<P { for pw in 0..<Q { for iy in 0..<gh {
                let sy = startH + Float(ph) * binH + (Float(iy) + 0.5) * binH / Float(gh)
                for ix in 0..<gw {
                    let sx = startW + Float(pw) * binW + (Float(ix) + 0.5) * binW / Float(gw)
                    append(y: sy, x: sx, height: H, width: W)
                }
            } } }
        }
    }

    private mutating func append(y y0: Float, x x0: Float, height H: Int, width W: Int) {
        if y0 < -1 || y0 > Float(H) || x0 < -1 || x0 > Float(W) {
            pixel += [0, 0, 0, 0]; weight += [0, 0, 0, 0]; inside.append(false)
            return
        }
        var (y, x) = (max(y0, 0), max(x0, 0))
        var yLow = Int(y), xLow = Int(x), yHigh = yLow + 1, xHigh = xLow + 1
        if yLow >= H - 1 { yLow = H - 1; yHigh = H - 1; y = Float(yLow) }
        if xLow >= W - 1 { xLow = W - 1; xHigh = W - 1; x = Float(xLow) }
        let ly = y - Float(yLow), lx = x - Float(xLow), hy = 1 - ly, hx = 1 - lx
        pixel += [Int32(yLow * W + xLow), Int32(yLow * W + xHigh), Int32(yHigh * W + xLow), Int32(yHigh * W + xHigh)]
        weight += [hy * hx, hy * lx, ly * hx, ly * lx]
        inside.append(true)
    }

    /// Samples per cell of region k.
    func perCell(_ k: Int) -> Int { gridH[k] * gridW[k] }
}

/// Checks that each region names an image of the batch and has finite coordinates.
func checkRegions(_ rois: UnsafePointer<Float>, regions: Int, batch: Int, op: String) throws {
    for k in 0..<regions {
        let r = rois + 5 * k
        guard r[0] >= 0, r[0] < Float(batch), r[0] == r[0].rounded(),
              r[1].isFinite, r[2].isFinite, r[3].isFinite, r[4].isFinite else {
            throw EngineError.invalidArgument(op: op, detail: "region \(k) = (\(r[0]), \(r[1]), \(r[2]), \(r[3]), \(r[4])) must name an image 0..<\(batch) and have finite corners")
        }
    }
}

/// torchvision's `roi_align` forward: each output cell is the mean of gridH × gridW bilinear
/// samples of the feature map inside the cell. Parallel over regions (each writes its own rows).
/// - Parameters:
///   - out: (K, P, Q, C), overwritten.
///   - inp: (N, H, W, C).
///   - rois: (K, 5) rows `(image index, x1, y1, x2, y2)`.
///   - regions: K.
public func roiAlignForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                            _ rois: UnsafePointer<Float>, regions: Int, _ g: RoIAlignGeometry) {
    let C = g.channels, cells = g.outHeight * g.outWidth
    Parallel.forEachChunk(count: regions, chunk: 8) { ks in
        let s = RoISamples(rois: rois + 5 * ks.lowerBound, regions: ks.count, g)
        s.pixel.withUnsafeBufferPointer { px in s.weight.withUnsafeBufferPointer { wt in
            for (j, k) in ks.enumerated() {
                let image = inp + s.image[j] * g.height * g.width * C
                let per = s.perCell(j), div = s.count[j]
                for cell in 0..<cells {
                    let o = out + (k * cells + cell) * C
                    o.update(repeating: 0, count: C)
                    for t in 0..<per {
                        let q = 4 * (s.first[j] + cell * per + t)
                        let (w1, w2, w3, w4) = (wt[q], wt[q + 1], wt[q + 2], wt[q + 3])
                        let (v1, v2, v3, v4) = (image + Int(px[q]) * C, image + Int(px[q + 1]) * C,
                                                image + Int(px[q + 2]) * C, image + Int(px[q + 3]) * C)
                        for c in 0..<C { o[c] += w1 * v1[c] + w2 * v2[c] + w3 * v3[c] + w4 * v4[c] }
                    }
                    for c in 0..<C { o[c] /= div }
                }
            }
        } }
    }
}

/// Gradient of `roiAlignForward` with respect to the features: each sample sends
/// `dy·w/count` to its four pixels. Parallel over channel blocks; within a block the regions,
/// cells and samples are visited in order, so every feature gradient is summed in torchvision's
/// CPU order whatever the thread count.
/// - Parameters:
///   - dinp: (N, H, W, C), accumulated (zero it first for a fresh gradient).
///   - dout: (K, P, Q, C).
///   - rois: (K, 5) as in the forward.
///   - regions: K.
public func roiAlignBackward(_ dinp: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>,
                             _ rois: UnsafePointer<Float>, regions: Int, _ g: RoIAlignGeometry) {
    if regions == 0 { return }
    let C = g.channels, cells = g.outHeight * g.outWidth
    let s = RoISamples(rois: rois, regions: regions, g)
    s.pixel.withUnsafeBufferPointer { px in s.weight.withUnsafeBufferPointer { wt in s.inside.withUnsafeBufferPointer { ins in
        Parallel.forEachChunk(count: C, chunk: 16) { cs in
            for k in 0..<regions {
                let image = dinp + s.image[k] * g.height * g.width * C
                let per = s.perCell(k), div = Float(s.gridH[k] * s.gridW[k])
                for cell in 0..<cells {
                    let dy = dout + (k * cells + cell) * C
                    for t in 0..<per {
                        let sample = s.first[k] + cell * per + t
                        if !ins[sample] { continue }
                        let q = 4 * sample
                        for c in cs {
                            let d = dy[c]
                            image[Int(px[q]) * C + c] += d * wt[q] / div
                            image[Int(px[q + 1]) * C + c] += d * wt[q + 1] / div
                            image[Int(px[q + 2]) * C + c] += d * wt[q + 2] / div
                            image[Int(px[q + 3]) * C + c] += d * wt[q + 3] / div
                        }
                    }
                }
            }
        }
    } } }
}

/// `roi_align` on tensors, with the checks.
/// - Parameters:
///   - features: (N, H, W, C).
///   - rois: (K, 5).
/// - Returns: (K, P, Q, C).
/// - Throws: `EngineError` for shapes that do not fit or regions naming no image.
public func roiAlign(_ features: Tensor, rois: Tensor, outHeight: Int, outWidth: Int, spatialScale: Float,
                     samplingRatio: Int, aligned: Bool = false) throws -> Tensor {
    let g = try RoIAlignGeometry.checked(featureShape: features.shape, outHeight: outHeight, outWidth: outWidth,
                                         spatialScale: spatialScale, samplingRatio: samplingRatio, aligned: aligned)
    guard rois.rank == 2, rois.shape[1] == 5 else {
        throw EngineError.shapeMismatch(op: "roi_align", detail: "rois must be (K, 5) rows (image, x1, y1, x2, y2), got \(shapeString(rois.shape))")
    }
    let k = rois.shape[0]
    try checkRegions(rois.data, regions: k, batch: g.batch, op: "roi_align")
    let y = Tensor(uninitialized: g.outputShape(regions: k))
    roiAlignForward(y.data, features.data, rois.data, regions: k, g)
    return y
}
