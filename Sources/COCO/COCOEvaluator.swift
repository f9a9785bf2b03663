import Foundation

/// COCO detection evaluation with pycocotools' `COCOeval` semantics (`evaluate`, `accumulate`,
/// `summarize` for iouType `bbox` and `segm`), so its twelve numbers equal pycocotools' to
/// rounding (tested to 1e-6 on generated cases: `Tools/coco/make_eval_fixtures.py`).
///
/// What that means, step by step:
/// - Images are the ground truth's (sorted ids), categories the ground truth's `categories`
///   (sorted ids); detections of other categories are left out; a detection on an image the
///   ground truth does not have is an error (pycocotools asserts).
/// - Results are loaded as `loadRes` does: when the first result has a box, every detection's
///   area is its box's `w·h` (also for `segm`) and a missing mask is the box's polygon;
///   otherwise the area is the mask's and a missing box is the mask's box. Detection ids are
///   1, 2, … in file order.
/// - Per image and category: detections sorted by score (stable), at most 100; IoU of boxes or
///   masks with pycocotools' crowd rule; a ground truth is ignored when crowd or its `area` is
///   outside the range; greedy matching at each IoU threshold `0.5:0.05:0.95`, each detection
///   taking the best still-free ground truth with IoU ≥ threshold, preferring non-ignored ones;
///   a crowd ground truth can take any number of detections; detections matched to an ignored
///   ground truth, and unmatched ones outside the area range, are ignored.
/// - Per category, area range and max-detections: detections of all images merged by score
///   (stable), cumulative TP/FP, precision made monotone, read at the 101 recall thresholds;
///   recall is the last one. −1 where a category has no non-ignored ground truth.
/// - Summary: means over the entries > −1 (−1 when there are none), in `stats` order.
public enum COCOEvaluator {
    public enum IoUType: String, Sendable, CaseIterable {
        case bbox, segm
    }

    /// Area ranges (all, small, medium, large) in pixels², as pycocotools.
    public static let areaRanges: [(Double, Double)] = [(0, 1e5 * 1e5), (0, 32 * 32), (32 * 32, 96 * 96), (96 * 96, 1e5 * 1e5)]
    public static let areaLabels = ["all", "small", "medium", "large"]
    public static let maxDetections = [1, 10, 100]
    /// The IoU and recall thresholds: pycocotools' own, or torchmetrics' (which passes its own
    /// to COCOeval).
    public struct Parameters: Sendable {
        public var iouThresholds: [Double]
        public var recallThresholds: [Double]

        /// pycocotools' defaults: `np.linspace(.5, .95, 10)` and `np.linspace(0, 1, 101)`, i.e.
        /// `i·step + start` with `step = (stop − start)/(n − 1)`, the last value set to `stop`, as
        /// numpy computes them (IoUs are compared with `≥`, recalls searched with `<`, so the
        /// last bit matters).
        public static let pycocotools = Parameters(iouThresholds: linspace(0.5, 0.95, 10), recallThresholds: linspace(0, 1, 101))

        /// torchmetrics' `MeanAveragePrecision` (1.x): `torch.linspace(0.5, 0.95, 10).tolist()`
        /// and `torch.linspace(0.0, 1.00, 101).tolist()`: float32 values, listed here as torch
        /// 2.x computes them (its linspace fills the two halves from either end).
        public static let torchmetrics = Parameters(iouThresholds: [
        0x1.0p-1, 0x1.19999ap-1, 0x1.333334p-1, 0x1.4cccccp-1, 0x1.666666p-1, 0x1.8p-1, 0x1.99999ap-1,
        0x1.b33334p-1, 0x1.ccccccp-1, 0x1.e66666p-1
        ], recallThresholds: [
        0x0.0p+0, 0x1.47ae14p-7, 0x1.47ae14p-6, 0x1.eb851ep-6, 0x1.47ae14p-5, 0x1.999998p-5, 0x1.eb851ep-5,
        0x1.1eb852p-4, 0x1.47ae14p-4, 0x1.70a3d6p-4, 0x1.999998p-4, 0x1.c28f5cp-4, 0x1.eb851ep-4,
        0x1.0a3d7p-3, 0x1.1eb852p-3, 0x1.333332p-3, 0x1.47ae14p-3, 0x1.5c28f6p-3, 0x1.70a3d6p-3,
        0x1.851eb8p-3, 0x1.999998p-3, 0x1.ae147ap-3, 0x1.c28f5cp-3, 0x1.d70a3cp-3, 0x1.eb851ep-3, 0x1.0p-2,
        0x1.0a3d7p-2, 0x1.147aep-2, 0x1.1eb852p-2, 0x1.28f5c2p-2, 0x1.333332p-2, 0x1.3d70a4p-2, 0x1.47ae14p-2,
        0x1.51eb84p-2, 0x1.5c28f6p-2, 0x1.666666p-2, 0x1.70a3d6p-2, 0x1.7ae148p-2, 0x1.851eb8p-2,
        0x1.8f5c28p-2, 0x1.999998p-2, 0x1.a3d70ap-2, 0x1.ae147ap-2, 0x1.b851eap-2, 0x1.c28f5cp-2,
        0x1.ccccccp-2, 0x1.d70a3cp-2, 0x1.e147aep-2, 0x1.eb851ep-2, 0x1.f5c28ep-2, 0x1.0p-1, 0x1.051eb8p-1,
        0x1.0a3d7p-1, 0x1.0f5c2ap-1, 0x1.147ae2p-1, 0x1.19999ap-1, 0x1.1eb852p-1, 0x1.23d70ap-1,
        0x1.28f5c2p-1, 0x1.2e147cp-1, 0x1.333334p-1, 0x1.3851ecp-1, 0x1.3d70a4p-1, 0x1.428f5cp-1,
        0x1.47ae14p-1, 0x1.4ccccep-1, 0x1.51eb86p-1, 0x1.570a3ep-1, 0x1.5c28f6p-1, 0x1.6147aep-1,
        0x1.666666p-1, 0x1.6b851ep-1, 0x1.70a3d8p-1, 0x1.75c29p-1, 0x1.7ae148p-1, 0x1.8p-1, 0x1.851eb8p-1,
        0x1.8a3d7p-1, 0x1.8f5c2ap-1, 0x1.947ae2p-1, 0x1.99999ap-1, 0x1.9eb852p-1, 0x1.a3d70ap-1,
        0x1.a8f5c2p-1, 0x1.ae147cp-1, 0x1.b33334p-1, 0x1.b851ecp-1, 0x1.bd70a4p-1, 0x1.c28f5cp-1,
        0x1.c7ae14p-1, 0x1.ccccccp-1, 0x1.d1eb86p-1, 0x1.d70a3ep-1, 0x1.dc28f6p-1, 0x1.e147aep-1,
        0x1.e66666p-1, 0x1.eb851ep-1, 0x1.f0a3d8p-1, 0x1.f5c29p-1, 0x1.fae148p-1, 0x1.0p+0
        ])
    }

    static func linspace(_ start: Double, _ stop: Double, _ n: Int) -> [Double] {
        let step = (stop - start) / Double(n - 1)
        var y = (0..<n).map { Double($0) * step + start }
        y[n - 1] = stop
        return y
    }

    /// The names of the twelve summary numbers, in pycocotools' `stats` order.
    public static let statNames = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"]

    /// The accumulated result.
    public struct Evaluation: Sendable {
        public var iouType: IoUType
        /// Category ids, sorted: the K axis.
        public var categoryIDs: [Int64]
        /// `[T][R][K][A][M]` flattened, −1 where undefined (pycocotools' `eval['precision']`).
        public var precision: [Double]
        /// `[T][K][A][M]` flattened (`eval['recall']`).
        public var recall: [Double]
        /// The twelve summary numbers in pycocotools' `stats` order.
        public var stats: [Double]

        var K: Int { categoryIDs.count }
        static let T = 10, R = 101, A = 4, M = 3

        func p(_ t: Int, _ r: Int, _ k: Int, _ a: Int, _ m: Int) -> Double {
            precision[(((t * Self.R + r) * K + k) * Self.A + a) * Self.M + m]
        }
        func rc(_ t: Int, _ k: Int, _ a: Int, _ m: Int) -> Double { recall[((t * K + k) * Self.A + a) * Self.M + m] }

        /// Per-category AP@[.5:.95] and AR@100 (area all, 100 detections), as torchmetrics'
        /// `class_metrics` computes them from the same arrays; −1 where undefined.
        public var perCategory: [(categoryID: Int64, ap: Double, ar100: Double)] {
            (0..<K).map { k in
                var ap: [Double] = [], ar: [Double] = []
                for t in 0..<Self.T {
                    for r in 0..<Self.R { let v = p(t, r, k, 0, 2); if v > -1 { ap.append(v) } }
                    let v = rc(t, k, 0, 2); if v > -1 { ar.append(v) }
                }
                return (categoryIDs[k], meanOrMinusOne(ap), meanOrMinusOne(ar))
            }
        }
    }

    static func meanOrMinusOne(_ v: [Double]) -> Double { v.isEmpty ? -1 : v.reduce(0, +) / Double(v.count) }

    /// One ground truth or detection as the matcher sees it.
    struct Item {
        var id: Int64
        var area: Double
        var crowd: Bool
        var score: Double
        var box: [Double]
        var mask: RLE?
    }

    /// Evaluates `detections` against `groundTruth`: pycocotools' `evaluate`, `accumulate`,
    /// `summarize`.
    /// - Parameters:
    ///   - parameters: the thresholds (pycocotools' by default).
    ///   - skipUnknownImages: leave out detections on images the ground truth lacks (what
    ///     COCOeval does when it is handed a results object directly, as torchmetrics does)
    ///     instead of refusing them (what `loadRes` does).
    ///   - images: evaluate these images only (pycocotools' `params.imgIds`; nil: every image of
    ///     the ground truth); detections on the ground truth's other images are left out.
    /// - Throws: `COCOError.format` for a detection on an image the ground truth lacks, a
    ///   duplicate ground-truth id, a missing box or mask where `iouType` needs one.
    public static func evaluate(groundTruth gt: Instances, detections dt: Detections, iouType: IoUType,
                                parameters: Parameters = .pycocotools, skipUnknownImages: Bool = false,
                                resultsFile: String = "results", images: Set<Int64>? = nil) throws -> Evaluation {
        let p = try prepare(gt, dt, iouType: iouType, skipUnknownImages: skipUnknownImages, resultsFile: resultsFile, images: images)
        let K = p.categoryIDs.count, I = p.imageCount, A = areaRanges.count
        var results = [ImageResult?](repeating: nil, count: K * A * I)
        for k in 0..<K {
            for i in 0..<I {
                for (a, r) in evaluateImage(p.gts[k * I + i], p.dts[k * I + i], iouType: iouType, thresholds: parameters.iouThresholds).enumerated() {
                    results[(k * A + a) * I + i] = r
                }
            }
        }
        let (precision, recall) = accumulate(results, categories: K, images: I, parameters: parameters)
        var evaluation = Evaluation(iouType: iouType, categoryIDs: p.categoryIDs, precision: precision, recall: recall, stats: [])
        evaluation.stats = summarize(evaluation, iouThresholds: parameters.iouThresholds)
        return evaluation
    }

    /// Ground truths and detections per (category, image), as `_prepare` and `loadRes` make them.
    struct Prepared {
        var categoryIDs: [Int64]
        var imageCount: Int
        /// `[K·I]`: the items of category k on image i at `k·I + i`, in file order.
        var gts: [[Item]]
        var dts: [[Item]]
    }

    static func prepare(_ gt: Instances, _ dt: Detections, iouType: IoUType, skipUnknownImages: Bool, resultsFile: String,
                        images: Set<Int64>? = nil) throws -> Prepared {
        let allImages = Set(gt.images.map(\.id))
        let imageIDs = Array(images.map { allImages.intersection($0) } ?? allImages).sorted()
        let categoryIDs = Array(Set(gt.categories.map(\.id))).sorted()
        var imageIndex: [Int64: Int] = [:]
        for (i, id) in imageIDs.enumerated() { imageIndex[id] = i }
        var imageSize: [Int64: (Int, Int)] = [:]
        for im in gt.images { imageSize[im.id] = (im.height, im.width) }   // the last entry wins, as COCO's index
        var categoryIndex: [Int64: Int] = [:]
        for (k, id) in categoryIDs.enumerated() { categoryIndex[id] = k }
        let I = imageIDs.count, K = categoryIDs.count

        // Ground truths, in file order.
        var gts = [[Item]](repeating: [], count: K * I)
        var seenIDs = Set<Int64>()
        for i in 0..<gt.annotationCount {
            guard seenIDs.insert(gt.ids[i]).inserted else {
                throw COCOError.format(file: gt.file, at: gt.label(i), problem: "the id is used twice; COCO evaluation needs unique annotation ids")
            }
            guard let ii = imageIndex[gt.imageIDs[i]], let k = categoryIndex[gt.categoryIDs[i]] else { continue }
            var mask: RLE?
            if iouType == .segm {
                let (h, w) = imageSize[gt.imageIDs[i]]!
                guard let r = try gt.rle(i, height: h, width: w) else {
                    throw COCOError.format(file: gt.file, at: gt.label(i), problem: "no 'segmentation', which segm evaluation needs")
                }
                mask = r
            }
            gts[k * I + ii].append(Item(id: gt.ids[i], area: gt.areas[i], crowd: gt.isCrowd[i], score: 0, box: gt.box(i), mask: mask))
        }

        // Detections, loaded as loadRes does: ids 1, 2, … in file order.
        var dts = [[Item]](repeating: [], count: K * I)
        let boxMode = dt.count > 0 && dt.boxes[0] != nil
        for j in 0..<dt.count {
            let at = "results[\(j)]"
            guard let ii = imageIndex[dt.imageIDs[j]] else {
                if skipUnknownImages || allImages.contains(dt.imageIDs[j]) { continue }
                throw COCOError.format(file: resultsFile, at: at, problem: "image_id \(dt.imageIDs[j]) is not an image of the ground truth (\(gt.file))")
            }
            guard let k = categoryIndex[dt.categoryIDs[j]] else { continue }
            let (h, w) = imageSize[dt.imageIDs[j]]!
            var item = Item(id: Int64(j + 1), area: 0, crowd: false, score: dt.scores[j], box: [], mask: nil)
            if boxMode {
                guard let b = dt.boxes[j] else {
                    throw COCOError.format(file: resultsFile, at: at, problem: "no 'bbox'; the first result has one, so every result needs one")
                }
                item.box = b
                item.area = b[2] * b[3]
                if iouType == .segm {
                    if let s = dt.segmentations[j] { item.mask = s.rle(height: h, width: w) } else {
                        let x1 = b[0], x2 = b[0] + b[2], y1 = b[1], y2 = b[1] + b[3]
                        let polygon = [x1, y1, x1, y2, x2, y2, x2, y1]
                        guard polygon.allSatisfy({ abs($0) <= RLE.maxCoordinate }), RLE.walkLength(polygon) <= RLE.maxWalk else {
                            throw COCOError.format(file: resultsFile, at: at, problem: "bbox \(b) reaches beyond ±\(Int(RLE.maxCoordinate)), too far to rasterise as a mask")
                        }
                        item.mask = RLE(polygons: [polygon], height: h, width: w)
                    }
                }
            } else {
                guard let s = dt.segmentations[j] else {
                    throw COCOError.format(file: resultsFile, at: at, problem: "no 'segmentation'; the first result has no 'bbox', so every result needs a mask")
                }
                let r = s.rle(height: h, width: w)
                item.area = Double(r.area)
                item.box = dt.boxes[j] ?? r.boundingBox
                item.mask = r
            }
            if let area = dt.areas[j] { item.area = area }
            dts[k * I + ii].append(item)
        }
        return Prepared(categoryIDs: categoryIDs, imageCount: I, gts: gts, dts: dts)
    }

    /// One image and category, one area range: `evaluateImg`'s output.
    struct ImageResult {
        var scores: [Double]
        var matched: [[Int64]]      // [T][D]: the matched ground truth's id, 0 when none
        var ignored: [[Bool]]       // [T][D]
        var gtIgnored: [Bool]
    }

    /// `evaluateImg` for one image and category, for each area range (nil when the image has
    /// neither ground truths nor detections of the category).
    static func evaluateImage(_ g: [Item], _ detections: [Item], iouType: IoUType, thresholds: [Double]) -> [ImageResult?] {
        let A = areaRanges.count, T = thresholds.count
        if g.isEmpty && detections.isEmpty { return [ImageResult?](repeating: nil, count: A) }
        var d = stableSortedByScore(detections)
        let maxDet = maxDetections.last!
        if d.count > maxDet { d.removeLast(d.count - maxDet) }
        // IoU (detections × ground truths) in the ground truths' file order.
        let crowd = g.map(\.crowd)
        let ious: [Double]
        if g.isEmpty || d.isEmpty {
            ious = []
        } else if iouType == .bbox {
            ious = IoU.boxes(d.map(\.box), g.map(\.box), crowd: crowd)
        } else {
            ious = IoU.masks(d.map { $0.mask! }, g.map { $0.mask! }, crowd: crowd)
        }
        return areaRanges.map { lo, hi in
            let ignore = g.map { $0.crowd || $0.area < lo || $0.area > hi }
            // Ground truths: not ignored first (stable).
            let order = g.indices.filter { !ignore[$0] } + g.indices.filter { ignore[$0] }
            let gIg = order.map { ignore[$0] }
            let gCrowd = order.map { crowd[$0] }
            var gtMatched = [[Int64]](repeating: [Int64](repeating: 0, count: g.count), count: T)
            var dtMatched = [[Int64]](repeating: [Int64](repeating: 0, count: d.count), count: T)
            var dtIgnored = [[Bool]](repeating: [Bool](repeating: false, count: d.count), count: T)
            if !ious.isEmpty {
                for t in 0..<T {
                    for di in 0..<d.count {
                        // The best still-free ground truth with IoU ≥ threshold; a match to a
                        // non-ignored one is never traded for an ignored one.
                        var best = min(thresholds[t], 1 - 1e-10)
                        var m = -1
                        for (gi, source) in order.enumerated() {
                            if gtMatched[t][gi] > 0 && !gCrowd[gi] { continue }
                            if m > -1 && !gIg[m] && gIg[gi] { break }
                            let v = ious[di * g.count + source]
                            if v < best { continue }
                            best = v
                            m = gi
                        }
                        if m == -1 { continue }
                        dtIgnored[t][di] = gIg[m]
                        dtMatched[t][di] = g[order[m]].id
                        gtMatched[t][m] = d[di].id
                    }
                }
            }
            // Unmatched detections outside the area range are ignored.
            for di in 0..<d.count where d[di].area < lo || d[di].area > hi {
                for t in 0..<T where dtMatched[t][di] == 0 { dtIgnored[t][di] = true }
            }
            return ImageResult(scores: d.map(\.score), matched: dtMatched, ignored: dtIgnored, gtIgnored: gIg)
        }
    }

    /// `accumulate`: precision `[T][R][K][A][M]` and recall `[T][K][A][M]`, −1 where undefined.
    static func accumulate(_ results: [ImageResult?], categories K: Int, images I: Int, parameters: Parameters) -> ([Double], [Double]) {
        let T = parameters.iouThresholds.count, R = parameters.recallThresholds.count, A = areaRanges.count, M = maxDetections.count
        var precision = [Double](repeating: -1, count: T * R * K * A * M)
        var recall = [Double](repeating: -1, count: T * K * A * M)
        for k in 0..<K {
            for a in 0..<A {
                let E = (0..<I).compactMap { results[(k * A + a) * I + $0] }
                if E.isEmpty { continue }
                let npig = E.reduce(0) { $0 + $1.gtIgnored.filter { !$0 }.count }
                if npig == 0 { continue }
                for (m, md) in maxDetections.enumerated() {
                    // The top md detections of every image, merged by score (stable).
                    var scores: [Double] = [], source: [(Int, Int)] = []
                    for (e, r) in E.enumerated() {
                        for di in 0..<min(md, r.scores.count) { scores.append(r.scores[di]); source.append((e, di)) }
                    }
                    let order = stableOrderByScore(scores)
                    let nd = order.count
                    for t in 0..<T {
                        var tp = 0.0, fp = 0.0
                        var rc = [Double](repeating: 0, count: nd), pr = [Double](repeating: 0, count: nd)
                        for (n, o) in order.enumerated() {
                            let (e, di) = source[o]
                            if !E[e].ignored[t][di] {
                                if E[e].matched[t][di] != 0 { tp += 1 } else { fp += 1 }
                            }
                            rc[n] = tp / Double(npig)
                            pr[n] = tp / (fp + tp + Double.ulpOfOne)
                        }
                        recall[((t * K + k) * A + a) * M + m] = nd > 0 ? rc[nd - 1] : 0
                        // Precision made monotone from the right, read at each recall threshold.
                        if nd > 1 {
                            for i in stride(from: nd - 1, to: 0, by: -1) where pr[i] > pr[i - 1] { pr[i - 1] = pr[i] }
                        }
                        var lower = 0
                        for (ri, threshold) in parameters.recallThresholds.enumerated() {
                            // searchsorted(rc, threshold, side: left): the first rc ≥ threshold.
                            while lower < nd && rc[lower] < threshold { lower += 1 }
                            precision[(((t * R + ri) * K + k) * A + a) * M + m] = lower < nd ? pr[lower] : 0
                        }
                    }
                }
            }
        }
        return (precision, recall)
    }

    /// Stable sort by descending score (numpy's `argsort(-scores, kind='mergesort')`).
    static func stableSortedByScore(_ items: [Item]) -> [Item] {
        stableOrderByScore(items.map(\.score)).map { items[$0] }
    }

    static func stableOrderByScore(_ scores: [Double]) -> [Int] {
        // Negated as numpy does, so −0.0 and 0.0 tie and NaN (never read: scores are finite) sorts last.
        scores.indices.sorted { a, b in
            let x = -scores[a], y = -scores[b]
            return x < y || (x == y && a < b)
        }
    }

    /// pycocotools' `_summarizeDets`.
    static func summarize(_ e: Evaluation, iouThresholds: [Double]) -> [Double] {
        let T = Evaluation.T, R = Evaluation.R, K = e.K
        // np.where(iouThr == p.iouThrs): the index of an exactly equal threshold.
        let t50 = iouThresholds.firstIndex(of: 0.5), t75 = iouThresholds.firstIndex(of: 0.75)
        func ap(_ t: Int?, _ a: Int, _ m: Int, allT: Bool) -> Double {
            var v: [Double] = []
            let ts: [Int] = allT ? Array(0..<T) : (t.map { [$0] } ?? [])
            for t in ts { for r in 0..<R { for k in 0..<K { let x = e.p(t, r, k, a, m); if x > -1 { v.append(x) } } } }
            return meanOrMinusOne(v)
        }
        func ar(_ a: Int, _ m: Int) -> Double {
            var v: [Double] = []
            for t in 0..<T { for k in 0..<K { let x = e.rc(t, k, a, m); if x > -1 { v.append(x) } } }
            return meanOrMinusOne(v)
        }
        return [ap(nil, 0, 2, allT: true), ap(t50, 0, 2, allT: false), ap(t75, 0, 2, allT: false),
                ap(nil, 1, 2, allT: true), ap(nil, 2, 2, allT: true), ap(nil, 3, 2, allT: true),
                ar(0, 0), ar(0, 1), ar(0, 2), ar(1, 2), ar(2, 2), ar(3, 2)]
    }
}
