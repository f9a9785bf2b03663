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

    func testMatchesPyTorchFixtures() throws {
        let cases = try loadFixtureCases("pooling", bundle: .module)
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
