import XCTest
import Foundation
@testable import Engine
import TestSupport

/// The rbf and b_spline KAN convolutions against plain Double references (forward) and finite
/// differences of those references (every gradient: input, base, bias, spline weights, scaler).
final class BasisKANConvTests: XCTestCase {
    typealias Shape = (n: Int, h: Int, w: Int, c: Int)
    private var stores: [ParameterStore] = []

    /// y[n,oh,ow,c] = bias + Σ_i base[i]·p_i + Σ_b coef[i·B + b]·basis(p_i, i)[b], NHWC, zero padding.
    static func reference(_ x: [Double], _ s: Shape, kernel k: Int, stride: Int, padding: Int, base: [Double], bias: Double,
                          coef: [Double], basis: (Double, Int) -> [Double]) -> [Double] {
        let ho = (s.h + 2 * padding - k) / stride + 1, wo = (s.w + 2 * padding - k) / stride + 1
        var y = [Double](repeating: 0, count: s.n * ho * wo * s.c)
        for n in 0..<s.n { for oh in 0..<ho { for ow in 0..<wo { for c in 0..<s.c {
            var acc = bias
            for kh in 0..<k { for kw in 0..<k {
                let (ih, iw, i) = (oh * stride - padding + kh, ow * stride - padding + kw, kh * k + kw)
                let p = ih < 0 || ih >= s.h || iw < 0 || iw >= s.w ? 0 : x[((n * s.h + ih) * s.w + iw) * s.c + c]
                let b = basis(p, i)
                acc += base[i] * p
                for q in b.indices { acc += coef[i * b.count + q] * b[q] }
            } }
            y[((n * ho + oh) * wo + ow) * s.c + c] = acc
        } } } }
        return y
    }

    static func rbf(_ v: Double, grids: Int) -> [Double] {
        let h = 2.0 / Double(grids - 1)
        return (0..<grids).map { g in let d = (v - (-1 + Double(g) * h)) / h; return Foundation.exp(-d * d) }
    }

    static func bspline(_ v: Double, knots t: [Double], order: Int) -> [Double] {
        var b = (0..<(t.count - 1)).map { v >= t[$0] && v < t[$0 + 1] ? 1.0 : 0.0 }
        for k in stride(from: 1, through: order, by: 1) {
            b = (0..<(b.count - 1)).map { j in
                (v - t[j]) / (t[j + k] - t[j]) * b[j] + (t[j + k + 1] - v) / (t[j + k + 1] - t[j + 1]) * b[j + 1]
            }
        }
        return b
    }

    /// Σ y·r for the float layer: returns (y, dx) after one train forward and backward.
    private func run(_ layer: Layer, _ x: [Double], _ s: Shape, _ r: [Double]) throws -> ([Float], [Float]) {
        let xt = Tensor(shape: [s.n, s.h, s.w, s.c], values: x.map(Float.init))
        let y = try layer.forward(xt, mode: .train)
        let dx = layer.backward(Tensor(shape: y.shape, values: r.map(Float.init)))
        return (y.array, dx.array)
    }

    func testRBFMatchesReferenceAndFiniteDifferences() throws {
        for (s, stride) in [((2, 5, 4, 3), 1), ((1, 6, 5, 2), 2)] as [(Shape, Int)] {
            let store = ParameterStore()
            let kan = RBFKANConv2d(store, name: "kan_conv1.0.convs.0.conv", stride: stride, grids: 5)
            store.finalize(); stores.append(store)
            XCTAssertEqual(store.parameters.map(\.name), ["kan_conv1.0.convs.0.conv.spline_linear.weight",
                                                          "kan_conv1.0.convs.0.conv.base_linear.weight",
                                                          "kan_conv1.0.convs.0.conv.base_linear.bias"])
            XCTAssertEqual(store.buffers.map(\.name), ["kan_conv1.0.convs.0.conv.rbf.grid"])
            kan.grid.setTorchValues(kan.gridValues)
            XCTAssertEqual(kan.gridValues, [-1, -0.5, 0, 0.5, 1])
            let x = testValues(s.n * s.h * s.w * s.c, seed: 3).map { $0 * 1.5 }
            let base = testValues(9, seed: 4).map { $0 / 3 }, bias = 0.2
            let spline = testValues(45, seed: 5).map { $0 * 0.5 }
            kan.baseWeight.setTorchValues(base.map(Float.init)); kan.baseBias.setTorchValues([Float(bias)])
            kan.splineWeight.setTorchValues(spline.map(Float.init))
            func f(_ x: [Double], _ base: [Double], _ bias: Double, _ spline: [Double]) -> [Double] {
                BasisKANConvTests.reference(x, s, kernel: 3, stride: stride, padding: 1, base: base, bias: bias, coef: spline) { v, _ in
                    BasisKANConvTests.rbf(v, grids: 5)
                }
            }
            let expected = f(x, base, bias, spline)
            let r = testValues(expected.count, seed: 6)
            let (y, dx) = try run(kan, x, s, r)
            assertClose(y, expected.map(Float.init), rtol: 1e-5, atol: 1e-5, "rbf forward \(s)")
            let loss = { (y: [Double]) in zip(y, r).reduce(0) { $0 + $1.0 * $1.1 } }
            assertClose(dx.map(Double.init), numericalGradient(x) { loss(f($0, base, bias, spline)) }, rtol: 1e-4, atol: 1e-4, "rbf dx")
            assertClose(kan.baseWeight.torchGrad().map(Double.init), numericalGradient(base) { loss(f(x, $0, bias, spline)) },
                        rtol: 1e-4, atol: 1e-4, "rbf dbase")
            assertClose(kan.baseBias.torchGrad().map(Double.init), numericalGradient([bias]) { loss(f(x, base, $0[0], spline)) },
                        rtol: 1e-4, atol: 1e-4, "rbf dbias")
            assertClose(kan.splineWeight.torchGrad().map(Double.init), numericalGradient(spline) { loss(f(x, base, bias, $0)) },
                        rtol: 1e-4, atol: 1e-4, "rbf dspline")
        }
    }

    func testBSplineMatchesReferenceAndFiniteDifferences() throws {
        for (s, stride, order) in [((2, 5, 4, 2), 1, 3), ((1, 6, 5, 2), 2, 2)] as [(Shape, Int, Int)] {
            let store = ParameterStore()
            let kan = BSplineKANConv2d(store, name: "kan_conv2.3.convs.0.conv", stride: stride, gridSize: 5, order: order)
            store.finalize(); stores.append(store)
            let nb = 5 + order
            XCTAssertEqual(store.parameters.map(\.shape), [[1, 9], [1, 9, nb], [1, 9]])
            XCTAssertEqual(store.buffers.map(\.name), ["kan_conv2.3.convs.0.conv.grid"])
            kan.grid.setTorchValues(kan.gridValues)
            let knots = Array(kan.gridValues.prefix(5 + 2 * order + 1)).map(Double.init)
            XCTAssertEqual(knots.first!, -1 - Double(order) * 0.4, accuracy: 1e-6)
            XCTAssertEqual(knots.last!, 1 + Double(order) * 0.4, accuracy: 1e-6)
            let x = testValues(s.n * s.h * s.w * s.c, seed: 7).map { $0 * 1.8 }
            let base = testValues(9, seed: 8).map { $0 / 3 }
            let spline = testValues(9 * nb, seed: 9), scaler = testValues(9, seed: 10).map { 1 + $0 / 2 }
            kan.baseWeight.setTorchValues(base.map(Float.init)); kan.splineWeight.setTorchValues(spline.map(Float.init))
            kan.splineScaler.setTorchValues(scaler.map(Float.init))
            func f(_ x: [Double], _ base: [Double], _ spline: [Double], _ scaler: [Double]) -> [Double] {
                let coef = (0..<(9 * nb)).map { spline[$0] * scaler[$0 / nb] }
                return BasisKANConvTests.reference(x, s, kernel: 3, stride: stride, padding: 1, base: base, bias: 0, coef: coef) { v, _ in
                    BasisKANConvTests.bspline(v, knots: knots, order: order)
                }
            }
            let expected = f(x, base, spline, scaler)
            let r = testValues(expected.count, seed: 11)
            let (y, dx) = try run(kan, x, s, r)
            assertClose(y, expected.map(Float.init), rtol: 1e-5, atol: 1e-5, "b_spline forward \(s)")
            let loss = { (y: [Double]) in zip(y, r).reduce(0) { $0 + $1.0 * $1.1 } }
            assertClose(dx.map(Double.init), numericalGradient(x) { loss(f($0, base, spline, scaler)) }, rtol: 1e-4, atol: 1e-4, "b_spline dx")
            assertClose(kan.baseWeight.torchGrad().map(Double.init), numericalGradient(base) { loss(f(x, $0, spline, scaler)) },
                        rtol: 1e-4, atol: 1e-4, "b_spline dbase")
            assertClose(kan.splineWeight.torchGrad().map(Double.init), numericalGradient(spline) { loss(f(x, base, $0, scaler)) },
                        rtol: 1e-4, atol: 1e-4, "b_spline dspline")
            assertClose(kan.splineScaler.torchGrad().map(Double.init), numericalGradient(scaler) { loss(f(x, base, spline, $0)) },
                        rtol: 1e-4, atol: 1e-4, "b_spline dscaler")
        }
    }

    /// The reference's initial spline coefficients: the minimum-norm interpolant of the noise at
    /// the G+1 knots (KANLinear `curve2coeff`, an underdetermined `lstsq`): A·w = noise, and any
    /// other interpolant w + n (n in A's null space) is longer.
    func testSplineNoiseFitIsTheMinimumNormInterpolant() {
        for (g, k) in [(3, 3), (2, 2), (5, 3)] {
            let a = BSplineNoiseFit.basisAtKnots(gridSize: g, order: k)
            XCTAssertEqual(a.count, g + 1)
            for row in a { XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-12, "partition of unity") }
            let noise = testValues(g + 1, seed: UInt64(g * 10 + k)).map { $0 * 0.05 / Double(g) }
            let w = BSplineNoiseFit.coefficients(noise: noise, gridSize: g, order: k)
            XCTAssertEqual(w.count, g + k)
            for r in 0...g { XCTAssertEqual(zip(a[r], w).reduce(0) { $0 + $1.0 * $1.1 }, noise[r], accuracy: 1e-14) }
            // A null-space direction: project a random z off A's rows (w is in their span).
            let z = testValues(g + k, seed: 99), zFit = BSplineNoiseFit.coefficients(
                noise: a.map { row in zip(row, z).reduce(0) { $0 + $1.0 * $1.1 } }, gridSize: g, order: k)
            let n = zip(z, zFit).map { $0 - $1 }
            XCTAssertGreaterThan(n.map { $0 * $0 }.reduce(0, +), 1e-6, "the system is underdetermined")
            XCTAssertEqual(zip(w, n).reduce(0) { $0 + $1.0 * $1.1 }, 0, accuracy: 1e-12, "w ⟂ null(A): minimum norm")
        }
    }
}
