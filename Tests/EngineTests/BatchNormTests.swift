import XCTest
@testable import Engine
import TestSupport

final class BatchNormTests: XCTestCase {
    /// Stores own the parameter memory the layers point into: keep them alive for the test.
    private var stores: [ParameterStore] = []

    /// A finalized store holding one BatchNorm2d with given γ, β.
    private func makeBN(_ c: Int, weight: [Float]? = nil, bias: [Float]? = nil, momentum: Float = 0.1, eps: Float = 1e-5) -> (ParameterStore, BatchNorm2d) {
        let store = ParameterStore()
        let bn = BatchNorm2d(store: store, name: "layer1.0.bn1", channels: c, momentum: momentum, eps: eps)
        store.finalize()
        store.initialize(seed: 0)
        stores.append(store)
        if let weight { bn.weight.setTorchValues(weight) }
        if let bias { bn.bias.setTorchValues(bias) }
        return (store, bn)
    }

    func testParametersAreDeclaredLikePyTorch() {
        let (store, bn) = makeBN(4)
        XCTAssertEqual(store.parameters.map(\.name), ["layer1.0.bn1.weight", "layer1.0.bn1.bias"])
        XCTAssertEqual(store.buffers.map(\.name), ["layer1.0.bn1.running_mean", "layer1.0.bn1.running_var"])
        XCTAssertEqual(store.counters.map(\.name), ["layer1.0.bn1.num_batches_tracked"])
        XCTAssertEqual(bn.weight.torchValues(), [1, 1, 1, 1])
        XCTAssertEqual(bn.bias.torchValues(), [0, 0, 0, 0])
        XCTAssertEqual(bn.runningMean.torchValues(), [0, 0, 0, 0])
        XCTAssertEqual(bn.runningVar.torchValues(), [1, 1, 1, 1])
    }

    func testReferenceBackwardMatchesFiniteDifferences() {
        for (rows, c) in [(15, 3), (7, 2)] {
            let x = testValues(rows * c, seed: 1).map { $0 * 2 + 0.3 }
            let w = testValues(c, seed: 2).map { $0 + 1.5 }, b = testValues(c, seed: 3)
            let g = testValues(rows * c, seed: 4)
            let eps = 1e-5
            let (dx, dw, db) = PointwiseReference.batchNormBackward(dy: g, x: x, channels: c, weight: w, eps: eps)
            let loss = { (x: [Double], w: [Double], b: [Double]) in
                dot(PointwiseReference.batchNormForward(x: x, channels: c, weight: w, bias: b, eps: eps).y, g)
            }
            assertClose(dx, numericalGradient(x) { loss($0, w, b) }, rtol: 1e-6, atol: 1e-7, "dx \(rows)x\(c)")
            assertClose(dw, numericalGradient(w) { loss(x, $0, b) }, rtol: 1e-6, atol: 1e-7, "dweight")
            assertClose(db, numericalGradient(b) { loss(x, w, $0) }, rtol: 1e-6, atol: 1e-7, "dbias")
        }
    }

    func testFloatMatchesReferenceAndUpdatesRunningStats() throws {
        for shape in [[3, 5, 7, 6], [9, 4]] {
            let c = shape.last!
            let w = testValues(c, seed: 5).map { Float($0 + 1.2) }, b = testValues(c, seed: 6).map { Float($0) }
            let (_, bn) = makeBN(c, weight: w, bias: b)
            let x = randomTensor(shape, seed: 7, scale: 3)
            let dy = randomTensor(shape, seed: 8)
            let y = try bn.forward(x, mode: .train)
            let dx = bn.backward(dy)
            let ref = PointwiseReference.batchNormForward(x: x.array.doubles, channels: c, weight: w.doubles, bias: b.doubles, eps: 1e-5)
            let back = PointwiseReference.batchNormBackward(dy: dy.array.doubles, x: x.array.doubles, channels: c, weight: w.doubles, eps: 1e-5)
            assertRelative(y.array, ref.y, 1e-5, "y \(shape)")
            assertRelative(dx.array, back.dx, 1e-5, "dx \(shape)")
            assertRelative(bn.weight.torchGrad(), back.dweight, 1e-5, "dweight")
            assertRelative(bn.bias.torchGrad(), back.dbias, 1e-5, "dbias")
            let n = Double(x.count / c)
            assertRelative(bn.runningMean.torchValues(), ref.mean.map { 0.1 * $0 }, 1e-6, "running_mean")
            assertRelative(bn.runningVar.torchValues(), ref.variance.map { 0.9 + 0.1 * $0 * n / (n - 1) }, 1e-6, "running_var (unbiased)")
            XCTAssertEqual(bn.numBatchesTracked.value, 1)
            let yEval = try bn.forward(x, mode: .eval)
            let refEval = PointwiseReference.batchNormEval(x: x.array.doubles, channels: c, weight: w.doubles, bias: b.doubles,
                                                           runningMean: bn.runningMean.torchValues().doubles,
                                                           runningVar: bn.runningVar.torchValues().doubles, eps: 1e-5)
            assertRelative(yEval.array, refEval, 1e-5, "eval y")
            XCTAssertEqual(bn.numBatchesTracked.value, 1, "eval must not count batches")
        }
    }

    func testLargeMeanDoesNotLoseVariance() throws {
        // Values around 1000 with unit spread: a naive one-pass Float variance would cancel.
        let (_, bn) = makeBN(2)
        let x = Tensor(shape: [64, 2], values: testValues(128, seed: 9).map { Float(1000 + $0) })
        let y = try bn.forward(x, mode: .train)
        let ref = PointwiseReference.batchNormForward(x: x.array.doubles, channels: 2, weight: [1, 1], bias: [0, 0], eps: 1e-5)
        assertRelative(y.array, ref.y, 1e-4, "y with large mean")
    }

    func testPyTorchFixtures() throws {
        for fx in try loadFixtureCases("batchnorm", bundle: .module) {
            let x = engineTensor(fx.tensor("x"))
            let c = x.shape.last!
            let (_, bn) = makeBN(c, weight: fx.tensor("weight").data, bias: fx.tensor("bias").data,
                                 momentum: Float(fx.config["momentum"]!), eps: Float(fx.config["eps"]!))
            bn.runningMean.setTorchValues(fx.tensor("running_mean0").data)
            bn.runningVar.setTorchValues(fx.tensor("running_var0").data)
            let y = try bn.forward(x, mode: .train)
            let dx = bn.backward(engineTensor(fx.tensor("dy")))
            assertRelative(y.array, engineValues(fx.tensor("y")), 1e-5, "\(fx.name) y")
            assertRelative(dx.array, engineValues(fx.tensor("dx")), 1e-4, "\(fx.name) dx")
            assertRelative(bn.weight.torchGrad(), fx.tensor("dweight").data, 1e-4, "\(fx.name) dweight")
            assertRelative(bn.bias.torchGrad(), fx.tensor("dbias").data, 1e-4, "\(fx.name) dbias")
            assertRelative(bn.runningMean.torchValues(), fx.tensor("running_mean").data, 1e-5, "\(fx.name) running_mean")
            assertRelative(bn.runningVar.torchValues(), fx.tensor("running_var").data, 1e-5, "\(fx.name) running_var")
            let yEval = try bn.forward(x, mode: .eval)
            assertRelative(yEval.array, engineValues(fx.tensor("y_eval")), 1e-5, "\(fx.name) eval y")
        }
    }

    func testSameBytesForOneAndTwoThreads() throws {
        // 40·7·7 = 1960 rows of 96 channels: many reduction chunks.
        let shape = [40, 7, 7, 96]
        let x = randomTensor(shape, seed: 10, scale: 2), dy = randomTensor(shape, seed: 11)
        let w = testValues(96, seed: 12).map { Float($0 + 1) }
        func run(_ threads: Int) throws -> [[Float]] {
            try withThreads(threads) {
                let (_, bn) = makeBN(96, weight: w)
                let y = try bn.forward(x, mode: .train)
                let dx = bn.backward(dy)
                return [y.array, dx.array, bn.weight.torchGrad(), bn.bias.torchGrad(), bn.runningMean.torchValues(), bn.runningVar.torchValues()]
            }
        }
        let (one, two) = (try run(1), try run(2))
        for (i, what) in ["y", "dx", "dweight", "dbias", "running_mean", "running_var"].enumerated() {
            assertSameBytes(one[i], two[i], what)
        }
    }

    func testShapeErrorsNameTheOpAndShapes() {
        let (_, bn) = makeBN(8)
        assertThrowsMessage(["BatchNorm2d", "[2, 4, 4, 6]", "8"]) { _ = try bn.forward(Tensor(zeros: [2, 4, 4, 6]), mode: .train) }
        assertThrowsMessage(["BatchNorm2d", "[2, 4, 8]"]) { _ = try bn.forward(Tensor(zeros: [2, 4, 8]), mode: .eval) }
        assertThrowsMessage(["BatchNorm2d", "more than 1 value", "[1, 8]"]) { _ = try bn.forward(Tensor(zeros: [1, 8]), mode: .train) }
    }
}
