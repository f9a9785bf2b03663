import XCTest
import Engine
import TestSupport

/// Conv2d: (a) the Double reference against finite differences, (b) the Float op against the
/// reference, (c) against PyTorch fixtures, (d) determinism across thread counts, (e) errors.
final class ConvTests: XCTestCase {
    /// Small geometries sweeping kernel 1/3/7, stride 1/2, padding 0/1/3, groups 1/2/depthwise, odd sizes.
    static let sweep: [Conv2dGeometry] = [
        .init(batch: 2, height: 5, width: 7, inChannels: 2, outChannels: 3, kernel: 1),
        .init(batch: 1, height: 5, width: 7, inChannels: 4, outChannels: 4, kernel: 1, stride: 2, groups: 2),
        .init(batch: 1, height: 5, width: 7, inChannels: 2, outChannels: 3, kernel: 1, stride: 2, padding: 1),
        .init(batch: 1, height: 5, width: 7, inChannels: 2, outChannels: 3, kernel: 3, stride: 1, padding: 1),
        .init(batch: 2, height: 5, width: 7, inChannels: 4, outChannels: 2, kernel: 3, stride: 2, padding: 1, groups: 2),
        .init(batch: 1, height: 5, width: 7, inChannels: 3, outChannels: 3, kernel: 3, stride: 2, padding: 0, groups: 3),
        .init(batch: 1, height: 5, width: 7, inChannels: 4, outChannels: 8, kernel: 3, stride: 1, padding: 1, groups: 4),
        .init(batch: 1, height: 5, width: 7, inChannels: 2, outChannels: 2, kernel: 3, stride: 2, padding: 3),
        .init(batch: 1, height: 7, width: 5, inChannels: 2, outChannels: 2, kernel: 7, stride: 1, padding: 3),
        .init(batch: 1, height: 5, width: 7, inChannels: 2, outChannels: 2, kernel: 7, stride: 2, padding: 3, groups: 2),
    ]

    static func describe(_ g: Conv2dGeometry) -> String {
        "N\(g.batch) \(g.height)x\(g.width) \(g.inChannels)→\(g.outChannels) k\(g.kernel) s\(g.stride) p\(g.padding) g\(g.groups)"
    }

    /// (a) Reference gradients of L = Σ y·r equal central differences, for x, w and b.
    func testReferenceMatchesFiniteDifferences() {
        for (i, g) in Self.sweep.enumerated() {
            let x = testValues(g.inputShape.reduce(1, *), seed: UInt64(10 * i + 1))
            let w = testValues(g.weightShape.reduce(1, *), seed: UInt64(10 * i + 2))
            let b = testValues(g.outChannels, seed: UInt64(10 * i + 3))
            let r = testValues(g.outputShape.reduce(1, *), seed: UInt64(10 * i + 4))
            let loss = { (x: [Double], w: [Double], b: [Double]) in
                zip(ReferenceConv.conv2dForward(x: x, w: w, b: b, g), r).reduce(0) { $0 + $1.0 * $1.1 }
            }
            let grads = ReferenceConv.conv2dBackward(dy: r, x: x, w: w, g)
            let what = Self.describe(g)
            assertClose(grads.dx, numericalGradient(x) { loss($0, w, b) }, rtol: 1e-6, atol: 1e-8, "dx \(what)")
            assertClose(grads.dw, numericalGradient(w) { loss(x, $0, b) }, rtol: 1e-6, atol: 1e-8, "dw \(what)")
            assertClose(grads.db, numericalGradient(b) { loss(x, w, $0) }, rtol: 1e-6, atol: 1e-8, "db \(what)")
        }
    }

    /// (b) The Float layer equals the Double reference, on one chunk and on one image per chunk;
    /// backward adds into the parameter gradients.
    func testFloatOpMatchesReference() throws {
        let larger: [Conv2dGeometry] = [
            .init(batch: 3, height: 9, width: 8, inChannels: 8, outChannels: 16, kernel: 3, stride: 1, padding: 1),
            .init(batch: 3, height: 9, width: 9, inChannels: 16, outChannels: 8, kernel: 3, stride: 2, padding: 1, groups: 4),
        ]
        for chunk in [ConvTuning.defaultChunkFloats, 1] {
            for (i, g) in (Self.sweep + larger).enumerated() {
                try checkAgainstReference(g, seed: UInt64(100 + i), what: Self.describe(g) + " chunk \(chunk)", chunk: chunk)
            }
        }
    }

    func checkAgainstReference(_ g: Conv2dGeometry, seed: UInt64, what: String,
                               chunk: Int = ConvTuning.defaultChunkFloats) throws {
        let store = ParameterStore(context: EngineContext(conv: ConvTuning(chunkFloats: chunk)))
        let conv = Conv2d(store: store, name: "conv", inChannels: g.inChannels, outChannels: g.outChannels,
                          kernel: g.kernel, stride: g.stride, padding: g.padding, groups: g.groups, bias: true)
        store.finalize()
        let x = testValues(g.inputShape.reduce(1, *), seed: seed).map(Float.init).map(Double.init)
        let w = testValues(g.weightShape.reduce(1, *), seed: seed + 1).map(Float.init).map(Double.init)
        let b = testValues(g.outChannels, seed: seed + 2).map(Float.init).map(Double.init)
        let dy = testValues(g.outputShape.reduce(1, *), seed: seed + 3).map(Float.init).map(Double.init)
        fill(conv.weight.value, w)
        fill(conv.bias!.value, b)
        store.grads!.update(repeating: 1, count: store.parameterCount)

        let y = try conv.forward(Tensor(shape: g.inputShape, values: x.map(Float.init)), mode: .train)
        XCTAssertEqual(y.shape, g.outputShape, what)
        let dx = conv.backward(Tensor(shape: g.outputShape, values: dy.map(Float.init)))
        let ref = ReferenceConv.conv2dBackward(dy: dy, x: x, w: w, g)
        let yRef = ReferenceConv.conv2dForward(x: x, w: w, b: b, g)
        XCTAssertLessThan(relativeError(y.array, yRef.map(Float.init)), 1e-5, "y \(what)")
        XCTAssertLessThan(relativeError(dx.array, ref.dx.map(Float.init)), 1e-5, "dx \(what)")
        let dw = UnsafeBufferPointer(start: conv.weight.grad, count: w.count).map { $0 - 1 }
        let db = UnsafeBufferPointer(start: conv.bias!.grad, count: b.count).map { $0 - 1 }
        XCTAssertLessThan(relativeError(dw, ref.dw.map(Float.init)), 1e-5, "dw \(what)")
        XCTAssertLessThan(relativeError(db, ref.db.map(Float.init)), 1e-5, "db \(what)")
    }

    /// (c) Outputs and gradients equal PyTorch's `F.conv2d` on the fixture cases.
    func testMatchesPyTorchFixtures() throws {
        let cases = try loadFixtureCases("conv2d")
        XCTAssertEqual(cases.count, 12)
        for c in cases {
            let xs = c.tensor("input").shape, ws = c.tensor("weight").shape
            let hasBias = c.int("bias") == 1
            let store = ParameterStore()
            let conv = Conv2d(store: store, name: "conv", inChannels: xs[1], outChannels: c.int("out_channels"),
                              kernel: c.int("kernel"), stride: c.int("stride"), padding: c.int("padding"),
                              groups: c.int("groups"), bias: hasBias)
            store.finalize()
            XCTAssertEqual(conv.weight.shape, ws, c.name)
            conv.weight.setTorchValues(c.tensor("weight").data)
            if hasBias { conv.bias!.setTorchValues(c.tensor("bias").data) }
            let y = try conv.forward(nhwc(c.tensor("input")), mode: .train)
            guard y.count == c.tensor("output").data.count else {
                XCTFail("\(c.name): output \(shapeString(y.shape)) (NHWC), PyTorch \(shapeString(c.tensor("output").shape)) (NCHW)"); continue
            }
            XCTAssertLessThanOrEqual(relativeError(LayoutConversion.nchw(y), c.tensor("output").data), 1e-5, "output \(c.name)")
            let dx = conv.backward(nhwc(c.tensor("dout")))
            XCTAssertLessThanOrEqual(relativeError(LayoutConversion.nchw(dx), c.tensor("dinput").data), 1e-4, "dinput \(c.name)")
            XCTAssertLessThanOrEqual(relativeError(conv.weight.torchGrad(), c.tensor("dweight").data), 1e-4, "dweight \(c.name)")
            if hasBias {
                XCTAssertLessThanOrEqual(relativeError(conv.bias!.torchGrad(), c.tensor("dbias").data), 1e-4, "dbias \(c.name)")
            }
        }
    }

    /// (d) One and two engine threads give the same bytes, forward and backward, several chunks.
    func testDeterministicAcrossThreadCounts() throws {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        for gemm in WinogradGEMM.allCases {
        for (i, (k, s, p, groups)) in [(3, 1, 1, 1), (3, 2, 1, 2), (1, 2, 0, 1), (1, 1, 0, 1), (5, 1, 2, 16)].enumerated() {
            var runs: [[[Float]]] = []
            for threads in [1, 2] {
                Parallel.threads = threads
                var tuning = ConvTuning(chunkFloats: 20_000)
                tuning.winogradGEMM = gemm
                let store = ParameterStore(context: EngineContext(threads: threads, conv: tuning))
                let conv = Conv2d(store: store, name: "c", inChannels: 16, outChannels: 32, kernel: k,
                                  stride: s, padding: p, groups: groups, bias: true)
                store.finalize()
                store.initialize(seed: 7)
                let x = Tensor(shape: [4, 13, 11, 16], values: testValues(4 * 13 * 11 * 16, seed: UInt64(i)).map(Float.init))
                let y = try conv.forward(x, mode: .train)
                let dy = Tensor(shape: y.shape, values: testValues(y.count, seed: UInt64(50 + i)).map(Float.init))
                let dx = conv.backward(dy)
                runs.append([y.array, dx.array, conv.weight.torchGrad(), conv.bias!.torchGrad()])
            }
            XCTAssertEqual(runs[0], runs[1], "k\(k) s\(s) p\(p) g\(groups), \(gemm) GEMM: 1 and 2 threads differ")
        }
        }
    }

    /// (e) Bad shapes throw errors naming the op and the shapes.
    func testShapeErrors() {
        let store = ParameterStore()
        let conv = Conv2d(store: store, name: "c", inChannels: 4, outChannels: 8, kernel: 3)
        let grouped = Conv2d(store: store, name: "g", inChannels: 6, outChannels: 8, kernel: 3, groups: 4)
        store.finalize()
        assertEngineError(try conv.forward(Tensor(zeros: [2, 5, 5]), mode: .eval), ["Conv2d", "[2, 5, 5]", "rank-4"])
        assertEngineError(try conv.forward(Tensor(zeros: [2, 5, 5, 3]), mode: .eval), ["Conv2d", "[2, 5, 5, 3]", "[8, 4, 3, 3]", "4 input channels"])
        assertEngineError(try conv.forward(Tensor(zeros: [2, 2, 5, 4]), mode: .eval), ["Conv2d", "[2, 2, 5, 4]", "kernel 3"])
        assertEngineError(try grouped.forward(Tensor(zeros: [1, 5, 5, 6]), mode: .eval), ["Conv2d", "[1, 5, 5, 6]", "groups"])
    }

    /// The declared parameters follow PyTorch's names, shapes and torchvision's default init.
    func testParameterDeclarations() {
        let store = ParameterStore()
        let conv = store.scoped("layer1") {
            Conv2d(store: store, name: "conv1", inChannels: 8, outChannels: 4, kernel: 3, groups: 2, bias: true)
        }
        XCTAssertEqual(conv.weight.name, "layer1.conv1.weight")
        XCTAssertEqual(conv.weight.shape, [4, 4, 3, 3])
        XCTAssertEqual(conv.weight.layout, .convOHWI)
        XCTAssertEqual(conv.weight.initializer, .kaimingNormalFanOut(fanOut: 36))
        XCTAssertEqual(conv.bias?.name, "layer1.conv1.bias")
        XCTAssertEqual(conv.bias?.initializer, .uniform(bound: 1 / Float(36).squareRoot()))
        let plain = Conv2d(store: store, name: "plain", inChannels: 3, outChannels: 2, kernel: 1,
                           weightInit: .uniform(bound: 1 / Float(3).squareRoot()))
        XCTAssertNil(plain.bias)
        XCTAssertEqual(plain.weight.initializer, .uniform(bound: 1 / Float(3).squareRoot()))
    }
}

/// NHWC tensor from an NCHW fixture tensor (or a plain tensor for other ranks).
func nhwc(_ t: FixtureTensor) -> Tensor {
    t.shape.count == 4 ? LayoutConversion.nhwc(fromNCHW: t.data, shape: t.shape) : Tensor(shape: t.shape, values: t.data)
}

/// Writes Double values into a Float buffer.
func fill(_ p: UnsafeMutablePointer<Float>, _ v: [Double]) {
    for i in v.indices { p[i] = Float(v[i]) }
}

/// Asserts that `body` throws an `EngineError` whose message contains every one of `parts`.
func assertEngineError<T>(_ body: @autoclosure () throws -> T, _ parts: [String],
                          file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try body()
        XCTFail("expected an EngineError containing \(parts)", file: file, line: line)
    } catch let e as EngineError {
        for p in parts where !e.description.contains(p) {
            XCTFail("error \"\(e)\" does not mention \"\(p)\"", file: file, line: line)
        }
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
    }
}
