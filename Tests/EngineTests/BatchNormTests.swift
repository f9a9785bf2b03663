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
        for fx in try loadFixtureCases("batchnorm") {
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

    /// The fused epilogue (BN, + residual, ReLU in one pass; ReLU's mask applied inside BN's
    /// backward) against the separate layers, bit for bit, in train and eval mode, with values
    /// ReLU and the add treat specially: NaN, ±∞, −0 and +0 in the residual, a NaN input in eval mode.
    func testFusedEpilogueHasTheBytesOfTheSeparateOps() throws {
        let shape = [6, 5, 3, 40]   // 90 rows: several reduction chunks of 40 channels
        let c = shape[3], count = shape.reduce(1, *)
        var xv = randomTensor(shape, seed: 20, scale: 2).array
        var rv = randomTensor(shape, seed: 21).array
        for (i, v) in [Float.nan, .infinity, -.infinity, -0.0, 0].enumerated() { rv[7 * i + 3] = v }
        xv[11] = .nan                                                  // a NaN through BN's eval pass only
        let w = testValues(c, seed: 22).map { Float($0 + 1) }, b = testValues(c, seed: 23).map { Float($0) }
        let dy = randomTensor(shape, seed: 24)
        for mode in [Mode.train, .eval] {
            let x = Tensor(shape: shape, values: mode == .train ? xv.map { $0.isNaN ? 0.5 : $0 } : xv)
            let residual = Tensor(shape: shape, values: rv)
            for (adding, relu) in [(false, true), (true, true), (true, false), (false, false)] {
                let what = "\(mode) residual \(adding) relu \(relu)"
                let (_, bnA) = makeBN(c, weight: w, bias: b), (_, bnB) = makeBN(c, weight: w, bias: b)
                let (reluA, reluB) = (ReLU(), ReLU())
                // Separate ops.
                var yA = try bnA.forward(x, mode: mode)
                if adding { yA = try addForward(yA, residual) }
                if relu { yA = try reluA.forward(yA, mode: mode) }
                // Fused.
                let yB = try bnB.forward(x, mode: mode, adding: adding ? residual : nil, then: relu ? reluB : nil)
                assertSameBytes(yA.array, yB.array, "y, \(what)")
                XCTAssertTrue(yB.array.contains { $0 == 0 } || !relu, "\(what): the case has ReLU zeros")
                guard mode == .train else { continue }
                assertSameBytes(bnA.runningMean.torchValues(), bnB.runningMean.torchValues(), "running_mean, \(what)")
                assertSameBytes(bnA.runningVar.torchValues(), bnB.runningVar.torchValues(), "running_var, \(what)")
                let dxA = bnA.backward(relu ? reluA.backward(dy) : dy)
                let dxB = relu ? bnB.backward(dy, through: reluB) : bnB.backward(dy)
                assertSameBytes(dxA.array, dxB.array, "dx, \(what)")
                assertSameBytes(bnA.weight.torchGrad(), bnB.weight.torchGrad(), "dweight, \(what)")
                assertSameBytes(bnA.bias.torchGrad(), bnB.bias.torchGrad(), "dbias, \(what)")
                XCTAssertEqual(dxB.count, count)
            }
        }
    }

    /// `Sequential` fuses a BatchNorm2d followed by a ReLU; the result is that of the two layers run one by one.
    func testSequentialFusesBatchNormAndReLU() throws {
        let shape = [4, 3, 3, 24], c = 24
        let x = randomTensor(shape, seed: 30, scale: 2), dy = randomTensor(shape, seed: 31)
        let (_, bnA) = makeBN(c), (_, bnB) = makeBN(c)
        let (reluA, reluB) = (ReLU(), ReLU())
        let yA = try reluA.forward(bnA.forward(x, mode: .train), mode: .train)
        let dxA = bnA.backward(reluA.backward(dy))
        let seq = Sequential([bnB, reluB])
        let yB = try seq.forward(x, mode: .train)
        let dxB = seq.backward(dy)
        assertSameBytes(yA.array, yB.array, "y")
        assertSameBytes(dxA.array, dxB.array, "dx")
        assertSameBytes(bnA.weight.torchGrad(), bnB.weight.torchGrad(), "dweight")
        XCTAssertTrue(yB.array.contains(0) && yB.array.contains { $0 > 0 }, "ReLU clipped some values and kept others")
    }

    /// The C kernels (CKernels/pointwise.c) in every build this CPU runs (SSE2, AVX2, AVX-512, and
    /// the AVX-512 build's 16-float code on AVX2: `forEachKernelBuild`) against plain Swift loops
    /// written here: eval-mode BN (+ residual, ReLU), ReLU forward and backward and the add, with a
    /// channel count (43) and an element count (3870) that use the 16-float blocks, 8-float blocks
    /// and scalar tails, and NaN, ±∞, ±0 among the values; and the train-mode forward and backward,
    /// whose bytes must not depend on the build.
    func testPointwiseKernelBuildsGiveThePlainLoopsBytes() throws {
        XCTAssertEqual(KernelBuild.runnable.first, .sse2)
        let shape = [6, 5, 3, 43], c = 43
        var xv = randomTensor(shape, seed: 40, scale: 2).array
        for (i, v) in [Float.nan, .infinity, -.infinity, -0.0, 0].enumerated() { xv[13 * i + 5] = v }
        let rv = randomTensor(shape, seed: 41).array
        let w = testValues(c, seed: 42).map { Float($0 + 1) }, b = testValues(c, seed: 43).map { Float($0) }
        let x = Tensor(shape: shape, values: xv), residual = Tensor(shape: shape, values: rv)
        let dy = randomTensor(shape, seed: 44)
        // Plain loops: eval BN's per-channel coefficients as BatchNorm2d derives them, then the ops.
        let (_, probe) = makeBN(c, weight: w, bias: b)
        let rm = probe.runningMean.torchValues(), rvar = probe.runningVar.torchValues()
        let a = (0..<c).map { Float(Double(w[$0]) / (Double(rvar[$0]) + 1e-5).squareRoot()) }
        func plain(_ adding: Bool, _ relu: Bool) -> [Float] {
            (0..<xv.count).map { i in
                let j = i % c
                var v = (xv[i] - rm[j]) * a[j] + b[j]
                if adding { v = v + rv[i] }
                return relu ? (v > 0 || v.isNaN ? v : 0) : v
            }
        }
        var trainBytes: [[[Float]]] = [], builds: [String] = []
        try forEachKernelBuild { build in
            builds.append(build)
            for (adding, relu) in [(false, false), (false, true), (true, false), (true, true)] {
                let (_, bn) = makeBN(c, weight: w, bias: b)
                let y = try bn.forward(x, mode: .eval, adding: adding ? residual : nil, then: relu ? ReLU() : nil)
                assertSameBytes(y.array, plain(adding, relu), "eval BN, \(build), residual \(adding), relu \(relu)")
            }
            let r = Tensor(uninitialized: shape)
            reluForward(r.data, x.data, x.count)
            assertSameBytes(r.array, xv.map { $0 > 0 || $0.isNaN ? $0 : 0 }, "relu, \(build)")
            reluBackward(r.data, dy.data, x.data, x.count)
            assertSameBytes(r.array, zip(dy.array, xv).map { $1 > 0 || $1.isNaN ? $0 : 0 }, "relu backward, \(build)")
            assertSameBytes(try addForward(x, residual).array, zip(xv, rv).map { $0 + $1 }, "add, \(build)")
            // Train mode on finite values, with the ReLU mask in backward.
            let xt = Tensor(shape: shape, values: xv.map { $0.isFinite ? $0 : 0.25 })
            let (_, bn) = makeBN(c, weight: w, bias: b)
            let relu = ReLU()
            let y = try bn.forward(xt, mode: .train, adding: residual, then: relu)
            let dx = bn.backward(dy, through: relu)
            trainBytes.append([y.array, dx.array, bn.weight.torchGrad(), bn.bias.torchGrad(), bn.runningVar.torchValues()])
        }
        for (k, build) in builds.enumerated().dropFirst() {
            for (i, what) in ["y", "dx", "dweight", "dbias", "running_var"].enumerated() {
                assertSameBytes(trainBytes[k][i], trainBytes[0][i], "train \(what): \(build) vs SSE2 build")
            }
        }
    }

    func testFusedResidualShapeErrorNamesTheAdd() {
        let (_, bn) = makeBN(8)
        assertThrowsMessage(["add", "[2, 4, 4, 8]", "[2, 4, 2, 8]"]) {
            _ = try bn.forward(Tensor(zeros: [2, 4, 4, 8]), mode: .eval, adding: Tensor(zeros: [2, 4, 2, 8]), then: nil)
        }
    }

    func testShapeErrorsNameTheOpAndShapes() {
        let (_, bn) = makeBN(8)
        assertThrowsMessage(["BatchNorm2d", "[2, 4, 4, 6]", "8"]) { _ = try bn.forward(Tensor(zeros: [2, 4, 4, 6]), mode: .train) }
        assertThrowsMessage(["BatchNorm2d", "[2, 4, 8]"]) { _ = try bn.forward(Tensor(zeros: [2, 4, 8]), mode: .eval) }
        assertThrowsMessage(["BatchNorm2d", "more than 1 value", "[1, 8]"]) { _ = try bn.forward(Tensor(zeros: [1, 8]), mode: .train) }
    }
}
