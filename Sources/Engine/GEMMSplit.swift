/// How `BLAS.sgemm` cuts an m×n×k product into single-threaded OpenBLAS calls.
///
/// Every block re-reads (and OpenBLAS re-packs) the operand it does not cut: cutting C's rows
/// re-packs op(B) (n·k floats) per extra block, cutting columns re-packs op(A) (m·k), and cutting
/// the reduction k costs a partial C (m·n) per extra block, written, read and summed (≈ 3·m·n).
/// The plan takes the cheapest axis, with as many blocks (≤ 8) as the work allows at 2²² MACs a
/// block, and no split when the cheapest extra traffic exceeds 1/32 of the multiply-adds (packing
/// a float costs about as much as 20 MACs). Depends only on (m, n, k): determinism.
public struct GEMMSplit: Equatable, Sendable {
    public enum Axis: Equatable, Sendable { case none, rows, columns, reduction }
    /// Which dimension is cut.
    public let axis: Axis
    /// Block length along `axis` (a multiple of 16, or the whole dimension).
    public let block: Int

    /// Most blocks of one product.
    public static let maxParts = 8
    /// Least multiply-adds per block.
    public static let minWorkPerPart = 1 << 22

    public init(m: Int, n: Int, k: Int) {
        let work = m * n * max(k, 1)
        var parts = min(GEMMSplit.maxParts, work / GEMMSplit.minWorkPerPart)
        while parts >= 2 {
            // Extra floats moved per extra block, for each axis long enough for `parts` blocks of ≥ 32.
            var best: (Axis, Int, Int)? = nil   // (axis, length, extra)
            for (axis, length, extra) in [(Axis.rows, m, n * k), (.columns, n, m * k), (.reduction, k, 3 * m * n)]
            where length >= 32 * parts {
                if best == nil || extra < best!.2 { best = (axis, length, extra) }
            }
            if let (axis, length, extra) = best, (parts - 1) * extra * 32 <= work {
                self.axis = axis
                self.block = ((length + parts - 1) / parts + 15) / 16 * 16
                return
            }
            parts /= 2
        }
        (axis, block) = (.none, max(m, n, k))
    }
}
