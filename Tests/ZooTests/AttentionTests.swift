import XCTest
import Foundation
import Engine
@testable import Zoo
import TestSupport

/// Efficient Local Attention (its grouped Conv1d, GroupNorm and sigmoid gates) against a plain
/// Double reference and finite differences of it.
final class AttentionTests: XCTestCase {
    typealias Shape = (n: Int, h: Int, w: Int, c: Int)
    private var stores: [ParameterStore] = []

    /// a = σ(GN(conv1d(v))) for v (N, L, C): conv k7 p3 groups C/8, GroupNorm(16) eps 1e-5.
    static func gate(_ v: [Double], n: Int, l: Int, c: Int, weight: [Double], gamma: [Double], beta: [Double]) -> [Double] {
        let cg = 8, k = 7
        var z = [Double](repeating: 0, count: n * l * c)
        for b in 0..<n { for i in 0..<l { for o in 0..<c {
            var acc = 0.0
            for j in 0..<cg { for t in 0..<k {
                let li = i + t - 3
                if li >= 0 && li < l { acc += weight[(o * cg + j) * k + t] * v[(b * l + li) * c + (o / cg) * cg + j] }
            } }
            z[(b * l + i) * c + o] = acc
        } } }
        let gc = c / 16
        var a = z
        for b in 0..<n { for g in 0..<16 {
            var vals: [Double] = []
            for i in 0..<l { for j in 0..<gc { vals.append(z[(b * l + i) * c + g * gc + j]) } }
            let m = vals.reduce(0, +) / Double(vals.count)
            let v = vals.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(vals.count)
            for i in 0..<l { for j in 0..<gc {
                let ch = g * gc + j, idx = (b * l + i) * c + ch
                a[idx] = 1 / (1 + Foundation.exp(-((z[idx] - m) / (v + 1e-5).squareRoot() * gamma[ch] + beta[ch])))
            } }
        } }
        return a
    }

    static func ela(_ x: [Double], _ s: Shape, weight: [Double], gamma: [Double], beta: [Double]) -> [Double] {
        var ph = [Double](repeating: 0, count: s.n * s.h * s.c), pw = [Double](repeating: 0, count: s.n * s.w * s.c)
        for b in 0..<s.n { for h in 0..<s.h { for w in 0..<s.w { for c in 0..<s.c {
            let v = x[((b * s.h + h) * s.w + w) * s.c + c]
            ph[(b * s.h + h) * s.c + c] += v / Double(s.w); pw[(b * s.w + w) * s.c + c] += v / Double(s.h)
        } } } }
        let ah = gate(ph, n: s.n, l: s.h, c: s.c, weight: weight, gamma: gamma, beta: beta)
        let aw = gate(pw, n: s.n, l: s.w, c: s.c, weight: weight, gamma: gamma, beta: beta)
        var y = x
        for b in 0..<s.n { for h in 0..<s.h { for w in 0..<s.w { for c in 0..<s.c {
            y[((b * s.h + h) * s.w + w) * s.c + c] *= ah[(b * s.h + h) * s.c + c] * aw[(b * s.w + w) * s.c + c]
        } } } }
        return y
    }

    func testELAMatchesReferenceAndFiniteDifferences() throws {
        let s: Shape = (2, 3, 5, 32)
        let store = ParameterStore()
        let ela = EfficientLocalAttention(store, name: "ela", channels: s.c)
        store.finalize(); stores.append(store)
        XCTAssertEqual(store.parameters.map(\.name), ["ela.conv.weight", "ela.gn.weight", "ela.gn.bias"])
        XCTAssertEqual(store.parameters.map(\.shape), [[32, 8, 7], [32], [32]])
        let x = testValues(s.n * s.h * s.w * s.c, seed: 1).map { $0 * 2 }
        let weight = testValues(32 * 56, seed: 2).map { $0 * 0.3 }
        let gamma = testValues(32, seed: 3).map { 1 + $0 / 2 }, beta = testValues(32, seed: 4).map { $0 / 4 }
        ela.weight.setTorchValues(weight.map(Float.init)); ela.gamma.setTorchValues(gamma.map(Float.init))
        ela.beta.setTorchValues(beta.map(Float.init))
        let f = { (x: [Double], w: [Double], g: [Double], b: [Double]) in AttentionTests.ela(x, s, weight: w, gamma: g, beta: b) }
        let expected = f(x, weight, gamma, beta)
        let r = testValues(expected.count, seed: 5)
        let macs = try store.context.macs.count { _ = try ela.forward(Tensor(shape: [s.n, s.h, s.w, s.c], values: x.map(Float.init)), mode: .eval) }
        XCTAssertEqual(macs, s.n * (s.h + s.w) * s.c * 8 * 7, "thop: the two Conv1d calls")
        let y = try ela.forward(Tensor(shape: [s.n, s.h, s.w, s.c], values: x.map(Float.init)), mode: .train)
        assertClose(y.array, expected.map(Float.init), rtol: 1e-4, atol: 1e-5, "ELA forward")
        let dx = ela.backward(Tensor(shape: y.shape, values: r.map(Float.init)))
        let loss = { (y: [Double]) in zip(y, r).reduce(0) { $0 + $1.0 * $1.1 } }
        assertClose(dx.array.map(Double.init), numericalGradient(x) { loss(f($0, weight, gamma, beta)) }, rtol: 1e-3, atol: 1e-4, "ELA dx")
        assertClose(ela.weight.torchGrad().map(Double.init), numericalGradient(weight) { loss(f(x, $0, gamma, beta)) },
                    rtol: 1e-3, atol: 1e-4, "ELA dconv")
        assertClose(ela.gamma.torchGrad().map(Double.init), numericalGradient(gamma) { loss(f(x, weight, $0, beta)) },
                    rtol: 1e-3, atol: 1e-4, "ELA dgamma")
        assertClose(ela.beta.torchGrad().map(Double.init), numericalGradient(beta) { loss(f(x, weight, gamma, $0)) },
                    rtol: 1e-3, atol: 1e-4, "ELA dbeta")
    }
}
