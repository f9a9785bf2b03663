import XCTest
import Engine
import TestSupport

/// Linear: reference vs finite differences, Float op vs reference, PyTorch fixtures, errors.
final class LinearTests: XCTestCase {
    static let sizes: [(batch: Int, inFeatures: Int, outFeatures: Int)] = [(1, 1, 1), (3, 7, 5), (4, 16, 10)]

    func testReferenceMatchesFiniteDifferences() {
        for (i, s) in Self.sizes.enumerated() {
            let x = testValues(s.batch * s.inFeatures, seed: UInt64(i * 10 + 1))
            let w = testValues(s.outFeatures * s.inFeatures, seed: UInt64(i * 10 + 2))
            let b = testValues(s.outFeatures, seed: UInt64(i * 10 + 3))
            let r = testValues(s.batch * s.outFeatures, seed: UInt64(i * 10 + 4))
            let loss = { (x: [Double], w: [Double], b: [Double]) in
                zip(ReferenceConv.linearForward(x: x, w: w, b: b, batch: s.batch, inFeatures: s.inFeatures,
                                                outFeatures: s.outFeatures), r).reduce(0) { $0 + $1.0 * $1.1 }
            }
            let g = ReferenceConv.linearBackward(dy: r, x: x, w: w, batch: s.batch, inFeatures: s.inFeatures, outFeatures: s.outFeatures)
            assertClose(g.dx, numericalGradient(x) { loss($0, w, b) }, rtol: 1e-6, atol: 1e-8, "dx \(s)")
            assertClose(g.dw, numericalGradient(w) { loss(x, $0, b) }, rtol: 1e-6, atol: 1e-8, "dw \(s)")
            assertClose(g.db, numericalGradient(b) { loss(x, w, $0) }, rtol: 1e-6, atol: 1e-8, "db \(s)")
        }
    }

    func testFloatOpMatchesReference() throws {
        for (i, s) in (Self.sizes + [(batch: 33, inFeatures: 70, outFeatures: 130)]).enumerated() {
            let store = ParameterStore()
            let fc = Linear(store: store, name: "fc", inFeatures: s.inFeatures, outFeatures: s.outFeatures)
            store.finalize()
            let f = { (n: Int, seed: Int) in testValues(n, seed: UInt64(100 + 10 * i + seed)).map { Double(Float($0)) } }
            let x = f(s.batch * s.inFeatures, 1), w = f(s.outFeatures * s.inFeatures, 2), b = f(s.outFeatures, 3)
            let dy = f(s.batch * s.outFeatures, 4)
            fill(fc.weight.value, w)
            fill(fc.bias!.value, b)
            store.grads!.update(repeating: 1, count: store.parameterCount)
            let y = try fc.forward(Tensor(shape: [s.batch, s.inFeatures], values: x.map(Float.init)), mode: .train)
            let dx = fc.backward(Tensor(shape: [s.batch, s.outFeatures], values: dy.map(Float.init)))
            let yRef = ReferenceConv.linearForward(x: x, w: w, b: b, batch: s.batch, inFeatures: s.inFeatures, outFeatures: s.outFeatures)
            let g = ReferenceConv.linearBackward(dy: dy, x: x, w: w, batch: s.batch, inFeatures: s.inFeatures, outFeatures: s.outFeatures)
            XCTAssertLessThan(relativeError(y.array, yRef.map(Float.init)), 1e-5, "y \(s)")
            XCTAssertLessThan(relativeError(dx.array, g.dx.map(Float.init)), 1e-5, "dx \(s)")
            let dw = UnsafeBufferPointer(start: fc.weight.grad, count: w.count).map { $0 - 1 }
            let db = UnsafeBufferPointer(start: fc.bias!.grad, count: b.count).map { $0 - 1 }
            XCTAssertLessThan(relativeError(dw, g.dw.map(Float.init)), 1e-5, "dw \(s)")
            XCTAssertLessThan(relativeError(db, g.db.map(Float.init)), 1e-5, "db \(s)")
        }
    }

    func testMatchesPyTorchFixtures() throws {
        let cases = try loadFixtureCases("linear")
        XCTAssertEqual(cases.count, 2)
        for c in cases {
            let xs = c.tensor("input").shape, hasBias = c.int("bias") == 1
            let store = ParameterStore()
            let fc = Linear(store: store, name: "fc", inFeatures: xs[1], outFeatures: c.int("out_features"), bias: hasBias)
            store.finalize()
            fc.weight.setTorchValues(c.tensor("weight").data)
            if hasBias { fc.bias!.setTorchValues(c.tensor("bias").data) }
            let y = try fc.forward(nhwc(c.tensor("input")), mode: .train)
            XCTAssertLessThanOrEqual(relativeError(y.array, c.tensor("output").data), 1e-5, "output \(c.name)")
            let dx = fc.backward(nhwc(c.tensor("dout")))
            XCTAssertLessThanOrEqual(relativeError(dx.array, c.tensor("dinput").data), 1e-4, "dinput \(c.name)")
            XCTAssertLessThanOrEqual(relativeError(fc.weight.torchGrad(), c.tensor("dweight").data), 1e-4, "dweight \(c.name)")
            if hasBias { XCTAssertLessThanOrEqual(relativeError(fc.bias!.torchGrad(), c.tensor("dbias").data), 1e-4, "dbias \(c.name)") }
        }
    }

    func testDeclarationsAndShapeErrors() {
        let store = ParameterStore()
        let fc = Linear(store: store, name: "fc", inFeatures: 16, outFeatures: 10)
        let nb = Linear(store: store, name: "head", inFeatures: 4, outFeatures: 2, bias: false)
        store.finalize()
        XCTAssertEqual(fc.weight.name, "fc.weight")
        XCTAssertEqual(fc.weight.shape, [10, 16])
        XCTAssertEqual(fc.weight.initializer, .uniform(bound: 0.25))
        XCTAssertEqual(fc.bias?.initializer, .uniform(bound: 0.25))
        XCTAssertNil(nb.bias)
        assertEngineError(try fc.forward(Tensor(zeros: [2, 15]), mode: .eval), ["Linear", "[2, 15]", "[10, 16]"])
        assertEngineError(try fc.forward(Tensor(zeros: [2, 4, 4]), mode: .eval), ["Linear", "[2, 4, 4]"])
    }
}
