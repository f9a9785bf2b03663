/// Unfolds the patches of `images` into rows of `col`, one row per output pixel.
///
/// Column order inside a row is (kh, kw, c) for one group, and (g, kh, kw, cg) for several,
/// so that group g's columns are the contiguous slice `g·Kg ..< (g+1)·Kg` (a GEMM operand with
/// `lda = K`). Out-of-image taps are zeros. Parallel over output rows (disjoint writes).
/// - Parameters:
///   - col: (images.count·Ho·Wo, K), overwritten.
///   - inp: (N, H, W, C) the whole batch.
///   - g: the geometry.
///   - images: which images of the batch to unfold.
func im2col(_ col: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ g: Conv2dGeometry, images: Range<Int>) {
    let (H, W, C, k, s, p) = (g.height, g.width, g.inChannels, g.kernel, g.stride, g.padding)
    let (Ho, Wo, K, G, Cg, Kg) = (g.outHeight, g.outWidth, g.patch, g.groups, g.groupInChannels, g.groupPatch)
    let n0 = images.lowerBound
    let tasks = images.count * Ho
    Parallel.forEachChunk(count: tasks, chunk: max(1, (tasks + 15) / 16)) { range in
        for t in range {
            let n = n0 + t / Ho, oh = t % Ho
            let image = inp + n * H * W * C
            for ow in 0..<Wo {
                let dst = col + (t * Wo + ow) * K
                let iw0 = ow * s - p
                let kwLo = max(0, -iw0), kwHi = min(k, W - iw0)
                for kh in 0..<k {
                    let ih = oh * s - p + kh
                    let inside = ih >= 0 && ih < H && kwHi > kwLo
                    if G == 1 {
                        // (kw, c) of one kh is contiguous in both col and input.
                        let d = dst + kh * k * C
                        if !inside { d.update(repeating: 0, count: k * C); continue }
                        if kwLo > 0 { d.update(repeating: 0, count: kwLo * C) }
                        d.advanced(by: kwLo * C).update(from: image + (ih * W + iw0 + kwLo) * C, count: (kwHi - kwLo) * C)
                        if kwHi < k { d.advanced(by: kwHi * C).update(repeating: 0, count: (k - kwHi) * C) }
                    } else {
                        for gi in 0..<G {
                            let d = dst + gi * Kg + kh * k * Cg
                            if !inside { d.update(repeating: 0, count: k * Cg); continue }
                            for kw in 0..<k {
                                if kw < kwLo || kw >= kwHi { (d + kw * Cg).update(repeating: 0, count: Cg); continue }
                                (d + kw * Cg).update(from: image + (ih * W + iw0 + kw) * C + gi * Cg, count: Cg)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The adjoint of `im2col`: writes dinp for `images` as the sum of every col entry that was
/// copied from it. Gathers per input row (n, ih), so threads write disjoint rows and each
/// element's terms are summed in the same (kh, ow, kw) order whatever the thread count.
/// - Parameters:
///   - dinp: (N, H, W, C) the whole batch; rows of `images` are overwritten.
///   - dcol: (images.count·Ho·Wo, K) in `im2col`'s column order.
func col2im(_ dinp: UnsafeMutablePointer<Float>, _ dcol: UnsafePointer<Float>, _ g: Conv2dGeometry, images: Range<Int>) {
    let (H, W, C, k, s, p) = (g.height, g.width, g.inChannels, g.kernel, g.stride, g.padding)
    let (Ho, Wo, K, G, Cg, Kg) = (g.outHeight, g.outWidth, g.patch, g.groups, g.groupInChannels, g.groupPatch)
    let n0 = images.lowerBound
    let tasks = images.count * H
    Parallel.forEachChunk(count: tasks, chunk: max(1, (tasks + 15) / 16)) { range in
        for t in range {
            let n = n0 + t / H, ih = t % H
            let row = dinp + (n * H + ih) * W * C          // (W, C)
            row.update(repeating: 0, count: W * C)
            let imageRows = dcol + (t / H) * Ho * Wo * K   // this image's col rows
            for kh in 0..<k {
                let num = ih + p - kh
                if num < 0 || num % s != 0 { continue }
                let oh = num / s
                if oh >= Ho { continue }
                for ow in 0..<Wo {
                    let src = imageRows + (oh * Wo + ow) * K
                    let iw0 = ow * s - p
                    let kwLo = max(0, -iw0), kwHi = min(k, W - iw0)
                    if kwHi <= kwLo { continue }
                    if G == 1 {
                        addInPlace(row + (iw0 + kwLo) * C, src + (kh * k + kwLo) * C, (kwHi - kwLo) * C)
                    } else {
                        for kw in kwLo..<kwHi {
                            let d = row + (iw0 + kw) * C
                            for gi in 0..<G { addInPlace(d + gi * Cg, src + gi * Kg + (kh * k + kw) * Cg, Cg) }
                        }
                    }
                }
            }
        }
    }
}

/// `d[i] += s[i]` for `i < n`.
@inline(__always)
func addInPlace(_ d: UnsafeMutablePointer<Float>, _ s: UnsafePointer<Float>, _ n: Int) {
    for i in 0..<n { d[i] += s[i] }
}
