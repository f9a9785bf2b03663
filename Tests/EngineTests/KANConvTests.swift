import XCTest
import Foundation
@testable import Engine
import TestSupport

final class KANConvTests: XCTestCase {
    typealias Shape = (n: Int, h: Int, w: Int, c: Int)
    /// Stores own the parameter memory the layers point into: keep them alive for the test.
    private var stores: [ParameterStore] = []

    /// A finalized store with one ChebyshevKANConv2d whose parameters are set to the given values.
    private func makeKAN(kernel: Int = 3, stride: Int, padding: Int = 1, degree: Int,
                         base: [Float], cheb: [Float], scaler: [Float]) -> ChebyshevKANConv2d {
        let store = ParameterStore()
        let kan = ChebyshevKANConv2d(store: store, name: "kan_conv1.0.convs.0.conv", kernel: kernel, stride: stride, padding: padding, degree: degree)
        store.finalize()
        stores.append(store)
        kan.baseWeight.setTorchValues(base)
        kan.polynomialWeight.setTorchValues(cheb)
        kan.scaler.setTorchValues(scaler)
        return kan
    }

    /// Deterministic parameters (base, cheb, scaler) for k×k taps and degree D.
    private func params(_ k2: Int, _ degree: Int, seed: UInt64) -> ([Double], [Double], [Double]) {
        (testValues(k2, seed: seed).map { $0 / 3 }, testValues(k2 * (degree + 1), seed: seed + 1).map { $0 * 0.4 },
         testValues(k2, seed: seed + 2).map { 1 + $0 * 0.3 })
    }

    func testParametersAreDeclaredLikeTheReference() {
        let store = ParameterStore()
        let kan = ChebyshevKANConv2d(store: store, name: "kan_conv1.3.convs.0.conv")
        store.finalize()
        store.initialize(seed: 1)
        // 815a357:KAN_Conv/chebyshevkan.py names them polynomial_weight and scaler (chebyshev_* before).
        XCTAssertEqual(store.parameters.map(\.name), ["kan_conv1.3.convs.0.conv.base_linear.weight",
                                                      "kan_conv1.3.convs.0.conv.polynomial_weight",
                                                      "kan_conv1.3.convs.0.conv.scaler"])
        XCTAssertEqual(store.parameters.map(\.shape), [[1, 9], [1, 9, 4], [1, 9]])
        XCTAssertEqual(store.trainableCount, 54)
        XCTAssertEqual(kan.baseWeight.initializer, .normal(std: Float((2.0 / 9).squareRoot())))
        XCTAssertEqual(kan.polynomialWeight.initializer, .normal(std: Float(1 / 36.0.squareRoot())))
        XCTAssertEqual(kan.scaler.torchValues(), [Float](repeating: 1, count: 9))
    }

    /// The drawn values follow reset_parameters' formulas: over many KAN convs (one per tensor index,
    /// as in a model), the mean and std of polynomial_weight (D = 3 and D = 2) and base_linear.weight
    /// are within 4 standard errors of N(0, 1/√(9·(D+1))) and N(0, √(2/9)); the scaler is exactly 1.
    func testInitStatisticsFollowTheReferenceFormulas() {
        let store = ParameterStore()
        var kans: [ChebyshevKANConv2d] = []
        for i in 0..<400 { kans.append(ChebyshevKANConv2d(store: store, name: "k\(i)", degree: i % 2 == 0 ? 3 : 2)) }
        store.finalize()
        store.initialize(seed: 7)
        func check(_ values: [Float], std: Double, _ what: String) {
            let n = Double(values.count)
            let mean = values.reduce(0.0) { $0 + Double($1) } / n
            let sd = (values.reduce(0.0) { $0 + pow(Double($1) - mean, 2) } / (n - 1)).squareRoot()
            XCTAssertLessThan(abs(mean), 4 * std / n.squareRoot(), "\(what) mean \(mean)")
            // Standard error of a normal sample's std: σ/√(2(n−1)).
            XCTAssertLessThan(abs(sd - std), 4 * std / (2 * (n - 1)).squareRoot(), "\(what) std \(sd) vs \(std)")
        }
        check(kans.enumerated().filter { $0.offset % 2 == 0 }.flatMap { $0.element.polynomialWeight.torchValues() },
              std: 1 / 36.0.squareRoot(), "polynomial_weight D=3")
        check(kans.enumerated().filter { $0.offset % 2 == 1 }.flatMap { $0.element.polynomialWeight.torchValues() },
              std: 1 / 27.0.squareRoot(), "polynomial_weight D=2")
        check(kans.flatMap { $0.baseWeight.torchValues() }, std: (2.0 / 9).squareRoot(), "base_linear.weight")
        XCTAssertTrue(kans.allSatisfy { $0.scaler.torchValues().allSatisfy { $0 == 1 } })
    }

    func testReferenceBackwardMatchesFiniteDifferences() {
        let configs: [(Shape, Int, Int, Int, Int)] = [   // shape, kernel, stride, padding, degree
            ((1, 5, 4, 2), 3, 1, 1, 3), ((2, 5, 5, 1), 3, 2, 1, 2), ((1, 6, 5, 2), 3, 2, 1, 4),
            ((1, 3, 5, 1), 3, 1, 1, 4), ((1, 7, 6, 1), 5, 2, 2, 3)]
        for (s, k, stride, pad, degree) in configs {
            let what = "\(s) k\(k) s\(stride) d\(degree)"
            let x = testValues(s.n * s.h * s.w * s.c, seed: 1).map { $0 * 2 }
            let (base, cheb, scaler) = params(k * k, degree, seed: 2)
            let fwd = { (x: [Double], b: [Double], ch: [Double], sc: [Double]) in
                PointwiseReference.chebyshevKANConvForward(x: x, shape: s, base: b, cheb: ch, scaler: sc, kernel: k,
                                                           stride: stride, padding: pad, degree: degree)
            }
            let g = testValues(fwd(x, base, cheb, scaler).count, seed: 5)
            let r = PointwiseReference.chebyshevKANConvBackward(dy: g, x: x, shape: s, base: base, cheb: cheb, scaler: scaler,
                                                                kernel: k, stride: stride, padding: pad, degree: degree)
            assertClose(r.dx, numericalGradient(x) { dot(fwd($0, base, cheb, scaler), g) }, rtol: 1e-6, atol: 1e-8, "dx \(what)")
            assertClose(r.dbase, numericalGradient(base) { dot(fwd(x, $0, cheb, scaler), g) }, rtol: 1e-6, atol: 1e-8, "dbase \(what)")
            assertClose(r.dcheb, numericalGradient(cheb) { dot(fwd(x, base, $0, scaler), g) }, rtol: 1e-6, atol: 1e-8, "dcheb \(what)")
            assertClose(r.dscaler, numericalGradient(scaler) { dot(fwd(x, base, cheb, $0), g) }, rtol: 1e-6, atol: 1e-8, "dscaler \(what)")
        }
    }

    func testFloatMatchesReference() throws {
        let configs: [(Shape, Int, Int, Int, Int)] = [
            ((2, 7, 6, 11), 3, 1, 1, 3), ((2, 7, 6, 11), 3, 2, 1, 3), ((1, 5, 8, 3), 3, 1, 1, 2),
            ((2, 6, 7, 17), 3, 2, 1, 4), ((1, 4, 4, 8), 3, 1, 1, 1), ((1, 9, 7, 5), 5, 2, 2, 3), ((2, 5, 5, 4), 3, 1, 0, 3),
            ((1, 3, 4, 70), 3, 1, 1, 3), ((1, 5, 4, 70), 3, 2, 1, 2)]   // 70 channels: a 64-channel block plus a tail
        for (s, k, stride, pad, degree) in configs {
            let what = "\(s) k\(k) s\(stride) p\(pad) d\(degree)"
            let (base, cheb, scaler) = params(k * k, degree, seed: 10)
            let kan = makeKAN(kernel: k, stride: stride, padding: pad, degree: degree,
                              base: base.map(Float.init), cheb: cheb.map(Float.init), scaler: scaler.map(Float.init))
            let x = randomTensor([s.n, s.h, s.w, s.c], seed: 11, scale: 2.5)
            let y = try kan.forward(x, mode: .train)
            let ref = PointwiseReference.chebyshevKANConvForward(x: x.array.doubles, shape: s, base: kan.baseWeight.torchValues().doubles,
                                                                 cheb: kan.polynomialWeight.torchValues().doubles,
                                                                 scaler: kan.scaler.torchValues().doubles,
                                                                 kernel: k, stride: stride, padding: pad, degree: degree)
            assertRelative(y.array, ref, 1e-5, "y \(what)")
            let dy = randomTensor(y.shape, seed: 12)
            let dx = kan.backward(dy)
            let r = PointwiseReference.chebyshevKANConvBackward(dy: dy.array.doubles, x: x.array.doubles, shape: s,
                                                                base: kan.baseWeight.torchValues().doubles,
                                                                cheb: kan.polynomialWeight.torchValues().doubles,
                                                                scaler: kan.scaler.torchValues().doubles,
                                                                kernel: k, stride: stride, padding: pad, degree: degree)
            assertRelative(dx.array, r.dx, 1e-5, "dx \(what)")
            assertRelative(kan.baseWeight.torchGrad(), r.dbase, 1e-5, "dbase \(what)")
            assertRelative(kan.polynomialWeight.torchGrad(), r.dcheb, 1e-5, "dcheb \(what)")
            assertRelative(kan.scaler.torchGrad(), r.dscaler, 1e-5, "dscaler \(what)")
        }
    }

    func testPyTorchFixtures() throws {
        let cases = try loadFixtureCases("kanconv")
        XCTAssertEqual(cases.count, 5)
        for fx in cases {
            let kan = makeKAN(kernel: fx.int("kernel"), stride: fx.int("stride"), padding: fx.int("padding"), degree: fx.int("degree"),
                              base: fx.tensor("base").data, cheb: fx.tensor("cheb").data, scaler: fx.tensor("scaler").data)
            let y = try kan.forward(engineTensor(fx.tensor("x")), mode: .train)
            XCTAssertEqual(y.shape, engineTensor(fx.tensor("y")).shape, fx.name)
            let dx = kan.backward(engineTensor(fx.tensor("dy")))
            assertRelative(y.array, engineValues(fx.tensor("y")), 1e-5, "\(fx.name) y")
            assertRelative(dx.array, engineValues(fx.tensor("dx")), 1e-4, "\(fx.name) dx")
            assertRelative(kan.baseWeight.torchGrad(), fx.tensor("dbase").data, 1e-4, "\(fx.name) dbase")
            assertRelative(kan.polynomialWeight.torchGrad(), fx.tensor("dcheb").data, 1e-4, "\(fx.name) dcheb")
            assertRelative(kan.scaler.torchGrad(), fx.tensor("dscaler").data, 1e-4, "\(fx.name) dscaler")
        }
    }

    func testBackwardAddsIntoParameterGradients() throws {
        let (base, cheb, scaler) = params(9, 3, seed: 20)
        let kan = makeKAN(stride: 1, degree: 3, base: base.map(Float.init), cheb: cheb.map(Float.init), scaler: scaler.map(Float.init))
        let x = randomTensor([1, 4, 4, 3], seed: 21), dy = randomTensor([1, 4, 4, 3], seed: 22)
        _ = try kan.forward(x, mode: .train); _ = kan.backward(dy)
        let once = kan.polynomialWeight.torchGrad()
        _ = try kan.forward(x, mode: .train); _ = kan.backward(dy)
        assertRelative(kan.polynomialWeight.torchGrad(), once.map { 2 * $0 }, 1e-6, "grad after two backwards")
    }

    func testSameBytesForOneAndTwoThreads() throws {
        for stride in [1, 2] {
            let (base, cheb, scaler) = params(9, 3, seed: 30)
            let x = randomTensor([4, 9, 9, 37], seed: 31, scale: 2)
            func run(_ threads: Int) throws -> [Float] {
                try withThreads(threads) {
                    let kan = makeKAN(stride: stride, degree: 3, base: base.map(Float.init), cheb: cheb.map(Float.init), scaler: scaler.map(Float.init))
                    let y = try kan.forward(x, mode: .train)
                    let dx = kan.backward(randomTensor(y.shape, seed: 32))
                    return y.array + dx.array + kan.baseWeight.torchGrad() + kan.polynomialWeight.torchGrad() + kan.scaler.torchGrad()
                }
            }
            assertSameBytes(try run(1), try run(2), "KAN conv stride \(stride)")
        }
    }

    func testVectorTanhAndExpAreAccurate() {
        var xs: [Float] = stride(from: -20, through: 20, by: 0.001).map { Float($0) }
        xs += [0, -0, 1e-30, -1e-20, 1e-6, 0.625, -0.625, 0.62499, 9, 9.5, 100, -100, .greatestFiniteMagnitude]
        var worst = 0.0
        for start in stride(from: 0, to: xs.count, by: 8) {
            var v = SIMD8<Float>()
            for l in 0..<8 where start + l < xs.count { v[l] = xs[start + l] }
            let t = vectorTanh(v)
            for l in 0..<8 where start + l < xs.count {
                let want = Foundation.tanh(Double(v[l]))
                worst = max(worst, abs(Double(t[l]) - want) / abs(want == 0 ? 1 : want))
                XCTAssertLessThanOrEqual(abs(t[l]), 1, "tanh(\(v[l])) = \(t[l])")
            }
        }
        XCTAssertLessThan(worst, 4e-7, "vectorTanh max relative error")
        var worstExp = 0.0
        for x in stride(from: -80.0, through: 80, by: 0.0137) {
            let e = vectorExp(SIMD8<Float>(repeating: Float(x)))[3]
            let want = Foundation.exp(Double(Float(x)))
            worstExp = max(worstExp, abs(Double(e) - want) / want)
        }
        XCTAssertLessThan(worstExp, 3e-7, "vectorExp max relative error")
    }

    func testShapeErrorsNameTheOpAndShapes() {
        let kan = makeKAN(stride: 1, padding: 0, degree: 3, base: [Float](repeating: 0, count: 9),
                          cheb: [Float](repeating: 0, count: 36), scaler: [Float](repeating: 1, count: 9))
        assertThrowsMessage(["ChebyshevKANConv2d", "[2, 5, 5]"]) { _ = try kan.forward(Tensor(zeros: [2, 5, 5]), mode: .train) }
        assertThrowsMessage(["ChebyshevKANConv2d", "[1, 2, 2, 4]", "3×3"]) { _ = try kan.forward(Tensor(zeros: [1, 2, 2, 4]), mode: .eval) }
    }
}
