import XCTest
import Engine
import TestSupport

/// MaxPool2d, AvgPool2d, GlobalAvgPool: references vs finite differences, Float ops vs
/// references, PyTorch fixtures (incl. ties and ResNet-D's ceil-mode shortcut), errors.
final class PoolingTests: XCTestCase {
    /// (geometry, countIncludePad)
    static let sweep: [(Pool2dGeometry, Bool)] = [
        (.init(batch: 2, height: 5, width: 7, channels: 3, kernel: 3, stride: 2, padding: 1), true),
        (.init(batch: 1, height: 5, width: 7, channels: 2, kernel: 2, stride: 2, padding: 0, ceilMode: true), false),
        (.init(batch: 1, height: 7, width: 5, channels: 2, kernel: 3, stride: 2, padding: 1, ceilMode: true), true),
        (.init(batch: 1, height: 6, width: 6, channels: 2, kernel: 3, stride: 2, padding: 1, ceilMode: true), false),
        (.init(batch: 1, height: 5, width: 7, channels: 2, kernel: 3, stride: 1, padding: 1), false),
        (.init(batch: 1, height: 7, width: 7, channels: 2, kernel: 7, stride: 1, padding: 3), true),
    ]

    static func describe(_ g: Pool2dGeometry) -> String {
        "N\(g.batch) \(g.height)x\(g.width)x\(g.channels) k\(g.kernel) s\(g.stride) p\(g.padding) ceil \(g.ceilMode)"
    }

    func testReferencesMatchFiniteDifferences() {
        for (i, (g, cip)) in Self.sweep.enumerated() {
            let x = testValues(g.inputShape.reduce(1, *), seed: UInt64(i + 1))
            let r = testValues(g.outputShape.reduce(1, *), seed: UInt64(i + 50))
            let dot = { (y: [Double]) in zip(y, r).reduce(0) { $0 + $1.0 * $1.1 } }
            let what = Self.describe(g)
            assertClose(ReferencePooling.maxPool2dBackward(dy: r, x: x, g),
                        numericalGradient(x) { dot(ReferencePooling.maxPool2dForward(x: $0, g).y) }, rtol: 1e-6, atol: 1e-8, "max \(what)")
            if !g.ceilMode {
                XCTAssertEqual(ReferencePooling.maxPool2dForward(x: x, g).y.count, g.outputShape.reduce(1, *))
            }
            assertClose(ReferencePooling.avgPool2dBackward(dy: r, g, countIncludePad: cip),
                        numericalGradient(x) { dot(ReferencePooling.avgPool2dForward(x: $0, g, countIncludePad: cip)) },
                        rtol: 1e-6, atol: 1e-8, "avg \(what) includePad \(cip)")
        }
        let x = testValues(2 * 15 * 3, seed: 9), r = testValues(2 * 3, seed: 10)
        assertClose(ReferencePooling.globalAvgPoolBackward(dy: r, batch: 2, pixels: 15, channels: 3),
                    numericalGradient(x) { zip(ReferencePooling.globalAvgPoolForward(x: $0, batch: 2, pixels: 15, channels: 3), r).reduce(0) { $0 + $1.0 * $1.1 } },
                    rtol: 1e-6, atol: 1e-8, "global")
    }

    func testFloatOpsMatchReferences() throws {
        for (i, (g, cip)) in Self.sweep.enumerated() {
            let x = testValues(g.inputShape.reduce(1, *), seed: UInt64(i + 1)).map { Double(Float($0)) }
            let dy = testValues(g.outputShape.reduce(1, *), seed: UInt64(i + 50)).map { Double(Float($0)) }
            let what = Self.describe(g)
            let xt = Tensor(shape: g.inputShape, values: x.map(Float.init))
            let dyt = Tensor(shape: g.outputShape, values: dy.map(Float.init))
            if !g.ceilMode {
                let mp = MaxPool2d(kernel: g.kernel, stride: g.stride, padding: g.padding)
                let y = try mp.forward(xt, mode: .train)
                XCTAssertEqual(y.array, ReferencePooling.maxPool2dForward(x: x, g).y.map(Float.init), "max y \(what)")
                XCTAssertLessThan(relativeError(mp.backward(dyt).array, ReferencePooling.maxPool2dBackward(dy: dy, x: x, g).map(Float.init)), 1e-6, "max dx \(what)")
            }
            let ap = AvgPool2d(kernel: g.kernel, stride: g.stride, padding: g.padding, ceilMode: g.ceilMode, countIncludePad: cip)
            let y = try ap.forward(xt, mode: .train)
            XCTAssertEqual(y.shape, g.outputShape, what)
            XCTAssertLessThan(relativeError(y.array, ReferencePooling.avgPool2dForward(x: x, g, countIncludePad: cip).map(Float.init)), 1e-5, "avg y \(what)")
            XCTAssertLessThan(relativeError(ap.backward(dyt).array, ReferencePooling.avgPool2dBackward(dy: dy, g, countIncludePad: cip).map(Float.init)), 1e-5, "avg dx \(what)")
        }
        let x = testValues(2 * 15 * 3, seed: 9).map { Double(Float($0)) }, dy = testValues(6, seed: 10).map { Double(Float($0)) }
        let gap = GlobalAvgPool()
        let y = try gap.forward(Tensor(shape: [2, 3, 5, 3], values: x.map(Float.init)), mode: .train)
        XCTAssertEqual(y.shape, [2, 3])
        XCTAssertLessThan(relativeError(y.array, ReferencePooling.globalAvgPoolForward(x: x, batch: 2, pixels: 15, channels: 3).map(Float.init)), 1e-6)
        let dx = gap.backward(Tensor(shape: [2, 3], values: dy.map(Float.init)))
        XCTAssertLessThan(relativeError(dx.array, ReferencePooling.globalAvgPoolBackward(dy: dy, batch: 2, pixels: 15, channels: 3).map(Float.init)), 1e-6)
    }

    /// Max pooling over many channels takes the 8-wide path (channels 0–15 here) and the scalar tail
    /// (16–18); both must pick exactly what the scalar rule picks: a value wins when larger or NaN,
    /// the first of equal values (−0 and +0 included) stays. Checked bitwise on the output and on
    /// where the backward pass routes each gradient, with NaNs and ties in the input.
    func testWideChannelPathPicksLikeTheScalarRule() throws {
        let g = Pool2dGeometry(batch: 2, height: 6, width: 5, channels: 19, kernel: 3, stride: 2, padding: 1)
        var x = testValues(g.inputShape.reduce(1, *), seed: 77).map { Float($0) }
        for i in stride(from: 0, to: x.count, by: 37) { x[i] = .nan }
        for i in stride(from: 5, to: x.count, by: 23) { x[i] = x[i - 1] }              // exact ties
        for i in stride(from: 11, to: x.count, by: 41) { x[i] = 0; x[i - 1] = -0.0 }   // −0 before +0
        let dy = testValues(g.outputShape.reduce(1, *), seed: 78).map { Float($0) }
        let (H, W, C, Ho, Wo) = (g.height, g.width, g.channels, g.outHeight, g.outWidth)
        var y = [Float](repeating: 0, count: dy.count), dx = [Float](repeating: 0, count: x.count)
        for n in 0..<g.batch { for oh in 0..<Ho { for ow in 0..<Wo { for c in 0..<C {
            var best = -Float.infinity, at = max(oh * 2 - 1, 0) * W + max(ow * 2 - 1, 0)
            for ih in max(oh * 2 - 1, 0)..<min(oh * 2 + 2, H) { for iw in max(ow * 2 - 1, 0)..<min(ow * 2 + 2, W) {
                let v = x[((n * H + ih) * W + iw) * C + c]
                if v > best || v.isNaN { best = v; at = ih * W + iw }
            } }
            let o = ((n * Ho + oh) * Wo + ow) * C + c
            y[o] = best
            dx[(n * H * W + at) * C + c] += dy[o]
        } } } }
        let mp = MaxPool2d(kernel: 3, stride: 2, padding: 1)
        let got = try mp.forward(Tensor(shape: g.inputShape, values: x), mode: .train)
        XCTAssertEqual(got.array.map(\.bitPattern), y.map(\.bitPattern), "forward, bit for bit (NaN and −0 included)")
        XCTAssertTrue(y.contains { $0.isNaN }, "the input exercises NaN")
        let back = mp.backward(Tensor(shape: g.outputShape, values: dy))
        XCTAssertEqual(back.array.map(\.bitPattern), dx.map(\.bitPattern), "gradients routed to the same argmax")
        // −0 then three +0 in one window, 16 channels (the 8-wide path only): −0 stays, and the gradient goes to it.
        let z = MaxPool2d(kernel: 2, stride: 2, padding: 0)
        let zy = try z.forward(Tensor(shape: [1, 2, 2, 16], values: [Float](repeating: -0.0, count: 16) + [Float](repeating: 0, count: 48)), mode: .train)
        XCTAssertEqual(zy.array.map(\.bitPattern), [UInt32](repeating: (-0.0 as Float).bitPattern, count: 16))
        XCTAssertEqual(z.backward(Tensor(shape: [1, 1, 1, 16], values: [Float](repeating: 1, count: 16))).array,
                       [Float](repeating: 1, count: 16) + [Float](repeating: 0, count: 48))
    }

    func testMatchesPyTorchFixtures() throws {
        let cases = try loadFixtureCases("pooling")
        XCTAssertEqual(cases.count, 10)
        for c in cases {
            let layer: Layer
            switch c.int("kind") {
            case 0: layer = MaxPool2d(kernel: c.int("kernel"), stride: c.int("stride"), padding: c.int("padding"))
            case 1: layer = AvgPool2d(kernel: c.int("kernel"), stride: c.int("stride"), padding: c.int("padding"),
                                      ceilMode: c.int("ceil_mode") == 1, countIncludePad: c.int("count_include_pad") == 1)
            default: layer = GlobalAvgPool()
            }
            let y = try layer.forward(nhwc(c.tensor("input")), mode: .train)
            let yTorch = y.rank == 4 ? LayoutConversion.nchw(y) : y.array
            guard y.count == c.tensor("output").data.count else {
                XCTFail("\(c.name): output \(shapeString(y.shape)) (NHWC), PyTorch \(shapeString(c.tensor("output").shape)) (NCHW)"); continue
            }
            XCTAssertLessThanOrEqual(relativeError(yTorch, c.tensor("output").data), 1e-5, "output \(c.name)")
            let dx = layer.backward(nhwc(c.tensor("dout")))
            XCTAssertLessThanOrEqual(relativeError(LayoutConversion.nchw(dx), c.tensor("dinput").data), 1e-4, "dinput \(c.name)")
        }
    }

    func testDeterministicAcrossThreadCounts() throws {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        var runs: [[[Float]]] = []
        for threads in [1, 2] {
            Parallel.threads = threads
            let x = Tensor(shape: [5, 9, 8, 6], values: testValues(5 * 9 * 8 * 6, seed: 3).map(Float.init))
            var out: [[Float]] = []
            for layer: Layer in [MaxPool2d(kernel: 3, stride: 2, padding: 1), AvgPool2d(kernel: 3, stride: 2, padding: 1), GlobalAvgPool()] {
                let y = try layer.forward(x, mode: .train)
                out += [y.array, layer.backward(Tensor(shape: y.shape, values: testValues(y.count, seed: 4).map(Float.init))).array]
            }
            runs.append(out)
        }
        XCTAssertEqual(runs[0], runs[1])
    }

    func testShapeErrors() {
        let mp = MaxPool2d(kernel: 3, stride: 2, padding: 1)
        assertEngineError(try mp.forward(Tensor(zeros: [2, 8, 8]), mode: .eval), ["MaxPool2d", "[2, 8, 8]"])
        assertEngineError(try MaxPool2d(kernel: 3, stride: 1, padding: 2).forward(Tensor(zeros: [1, 8, 8, 2]), mode: .eval),
                          ["MaxPool2d", "[1, 8, 8, 2]", "padding 2"])
        assertEngineError(try AvgPool2d(kernel: 5, stride: 1).forward(Tensor(zeros: [1, 4, 8, 2]), mode: .eval),
                          ["AvgPool2d", "[1, 4, 8, 2]", "kernel 5"])
        assertEngineError(try GlobalAvgPool().forward(Tensor(zeros: [2, 8]), mode: .eval), ["GlobalAvgPool", "[2, 8]"])
    }
}
