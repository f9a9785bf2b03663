/// torchvision's `AnchorGenerator`: per feature map, a set of base ("cell") anchors centred on 0,
/// shifted to every location of the map by the map's stride.
///
/// Mask R-CNN in the reference (815a357:residual_networks/RKAN_RCNN.py) gives every FPN level the
/// same five sizes (32, 64, 128, 256, 512) and three aspect ratios (0.5, 1, 2): 15 anchors per
/// location (torchvision's default is one size per level, 3 anchors).
public struct AnchorGenerator: Equatable, Sendable {
    /// Sizes and aspect ratios (h/w) of each feature map, finest first.
    public let sizes: [[Int]]
    public let aspectRatios: [[Double]]

    public init(sizes: [[Int]], aspectRatios: [[Double]]) {
        precondition(sizes.count == aspectRatios.count && !sizes.isEmpty, "AnchorGenerator: \(sizes.count) size sets for \(aspectRatios.count) ratio sets")
        self.sizes = sizes; self.aspectRatios = aspectRatios
    }

    /// The reference's generator: sizes (32, 64, 128, 256, 512) and ratios (0.5, 1, 2) on each of
    /// `levels` maps.
    public static func reference(levels: Int = 5) -> AnchorGenerator {
        AnchorGenerator(sizes: Array(repeating: [32, 64, 128, 256, 512], count: levels),
                        aspectRatios: Array(repeating: [0.5, 1, 2], count: levels))
    }

    /// Anchors per location of map `level`.
    public func anchorsPerLocation(_ level: Int) -> Int { sizes[level].count * aspectRatios[level].count }

    /// torchvision's `generate_anchors` in float32: h = √ratio, w = 1/h, then for each ratio (outer)
    /// and size (inner) the box (−w·s, −h·s, w·s, h·s)/2, rounded half to even.
    /// - Returns: (A, 4) as (x1, y1, x2, y2), A = ratios × sizes.
    public func cellAnchors(_ level: Int) -> [Float] {
        var out: [Float] = []
        for r in aspectRatios[level] {
            let hr = Float(r).squareRoot(), wr = 1 / hr
            for s in sizes[level] {
                let ws = wr * Float(s), hs = hr * Float(s)
                out += [-ws, -hs, ws, hs].map { ($0 / 2).rounded(.toNearestOrEven) }
            }
        }
        return out
    }

    /// All anchors of one image: for each map in order, locations row-major (y outer, x inner),
    /// the cell anchors shifted by (x·stride_w, y·stride_h); stride = padded image side ÷ map side
    /// (integer division, as torchvision). The order is the RPN head's NHWC output order.
    /// - Parameters:
    ///   - imageHeight, imageWidth: the padded batch size (all images share the anchors).
    ///   - featureSizes: (height, width) of each map.
    /// - Returns: (Σ H·W·A, 4) and the anchor count of each map.
    public func anchors(imageHeight: Int, imageWidth: Int, featureSizes: [(height: Int, width: Int)]) -> (boxes: [Float], perLevel: [Int]) {
        precondition(featureSizes.count == sizes.count, "AnchorGenerator: \(featureSizes.count) feature maps for \(sizes.count) anchor levels")
        var boxes: [Float] = [], perLevel: [Int] = []
        for (l, f) in featureSizes.enumerated() {
            let cell = cellAnchors(l), a = cell.count / 4
            let sh = imageHeight / f.height, sw = imageWidth / f.width
            boxes.reserveCapacity(boxes.count + f.height * f.width * a * 4)
            for y in 0..<f.height {
                let dy = Float(y * sh)
                for x in 0..<f.width {
                    let dx = Float(x * sw)
                    for j in 0..<a {
                        boxes += [dx + cell[4 * j], dy + cell[4 * j + 1], dx + cell[4 * j + 2], dy + cell[4 * j + 3]]
                    }
                }
            }
            perLevel.append(f.height * f.width * a)
        }
        return (boxes, perLevel)
    }
}
