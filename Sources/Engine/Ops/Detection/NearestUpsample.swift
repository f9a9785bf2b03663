import Foundation

/// PyTorch's nearest source index (`F.interpolate(mode="nearest", size=...)`, UpSample.h
/// `nearest_idx`): the same index when the sizes agree, dst/2 when the output is twice the
/// input, else min(floor(dst·(in/out)), in − 1) with the scale in float32.
@inline(__always) func nearestSourceIndex(_ dst: Int, input: Int, output: Int) -> Int {
    if output == input { return dst }
    if output == 2 * input { return dst >> 1 }
    let scale = Float(input) / Float(output)
    return min(Int((Float(dst) * scale).rounded(.down)), input - 1)
}

/// Nearest-neighbour resize to a given size (the FPN's top-down pathway resizes each coarser
/// map to the next finer map's size, which is 2× or 2×−1).
/// - Parameters:
///   - out: (N, Ho, Wo, C), overwritten.
///   - inp: (N, H, W, C).
public func nearestUpsampleForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                                   batch: Int, height: Int, width: Int, channels C: Int, outHeight: Int, outWidth: Int) {
    let sx = (0..<outWidth).map { nearestSourceIndex($0, input: width, output: outWidth) }
    Parallel.forEach(batch * outHeight) { row in
        let n = row / outHeight, oh = row % outHeight
        let ih = nearestSourceIndex(oh, input: height, output: outHeight)
        let src = inp + (n * height + ih) * width * C, dst = out + row * outWidth * C
        for ow in 0..<outWidth { (dst + ow * C).update(from: src + sx[ow] * C, count: C) }
    }
}

/// Gradient of `nearestUpsampleForward`: each input pixel receives the sum of the gradients of
/// the outputs that copied it, added in output order (row, then column). Parallel over images.
/// - Parameters:
///   - dinp: (N, H, W, C), overwritten.
///   - dout: (N, Ho, Wo, C).
public func nearestUpsampleBackward(_ dinp: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>,
                                    batch: Int, height: Int, width: Int, channels C: Int, outHeight: Int, outWidth: Int) {
    let sx = (0..<outWidth).map { nearestSourceIndex($0, input: width, output: outWidth) }
    Parallel.forEach(batch) { n in
        let d = dinp + n * height * width * C
        d.update(repeating: 0, count: height * width * C)
        for oh in 0..<outHeight {
            let ih = nearestSourceIndex(oh, input: height, output: outHeight)
            let src = dout + (n * outHeight + oh) * outWidth * C
            for ow in 0..<outWidth {
                let to = d + (ih * width + sx[ow]) * C, from = src + ow * C
                for c in 0..<C { to[c] += from[c] }
            }
        }
    }
}

/// `F.interpolate(x, size=(outHeight, outWidth), mode="nearest")` on a tensor.
/// - Parameter x: (N, H, W, C).
/// - Returns: (N, outHeight, outWidth, C).
/// - Throws: `EngineError` for a tensor that is not rank 4 or a size below 1.
public func nearestUpsample(_ x: Tensor, outHeight: Int, outWidth: Int) throws -> Tensor {
    guard x.rank == 4, outHeight > 0, outWidth > 0 else {
        throw EngineError.shapeMismatch(op: "interpolate(nearest)", detail: "input \(shapeString(x.shape)) must be (N, H, W, C) and the size \(outHeight)×\(outWidth) positive")
    }
    let y = Tensor(uninitialized: [x.shape[0], outHeight, outWidth, x.shape[3]])
    nearestUpsampleForward(y.data, x.data, batch: x.shape[0], height: x.shape[1], width: x.shape[2], channels: x.shape[3],
                           outHeight: outHeight, outWidth: outWidth)
    return y
}
