import XCTest
import Foundation
@testable import Engine
import TestSupport

/// `ChebyshevKANConv2d` against fixtures made by the reference's own module
/// (`Tools/fixtures/reference_kan.py --reference DIR`: KAN_Convolutional_Layer of withray/residualKAN,
/// 815a357:KAN_Conv/chebyshevkan.py, a160c7b:KAN_Conv/KANConv.py): forward, backward, and the
/// statistics of the initialisation over many draws. No torch at test time.
final class ReferenceKANTests: XCTestCase {
    /// Stores own the parameter memory the layers point into: keep them alive for the test.
    private var stores: [ParameterStore] = []

    /// A finalized one-layer store; the KAN's three tensors found by their state-dict key suffix
    /// (the reference's `polynomial_weight` / `scaler`, or the older `chebyshev_weight` / `chebyshev_scaler`).
    private func makeKAN(stride: Int, degree: Int) -> (ChebyshevKANConv2d, ParameterStore, base: Parameter, cheb: Parameter, scaler: Parameter) {
        let store = ParameterStore()
        let kan = ChebyshevKANConv2d(store: store, name: "kan_conv2.3.convs.0.conv", kernel: 3, stride: stride, padding: 1, degree: degree)
        store.finalize()
        stores.append(store)
        func find(_ suffixes: [String]) -> Parameter {
            guard let p = store.parameters.first(where: { p in suffixes.contains { p.name.hasSuffix($0) } }) else {
                fatalError("no KAN parameter named *\(suffixes) among \(store.parameters.map(\.name))")
            }
            return p
        }
        return (kan, store, find([".base_linear.weight"]), find([".polynomial_weight", ".chebyshev_weight"]),
                find([".scaler", ".chebyshev_scaler"]))
    }

    func testForwardAndBackwardMatchTheReferenceModule() throws {
        let cases = try loadFixtureCases("reference_kan").filter { $0.name.hasPrefix("fwd_") }
        XCTAssertEqual(cases.count, 5)
        for fx in cases {
            let (kan, _, base, cheb, scaler) = makeKAN(stride: fx.int("stride"), degree: fx.int("degree"))
            base.setTorchValues(fx.tensor("base").data)
            cheb.setTorchValues(fx.tensor("cheb").data)
            scaler.setTorchValues(fx.tensor("scaler").data)
            let y = try kan.forward(engineTensor(fx.tensor("x")), mode: .train)
            XCTAssertEqual(y.shape, engineTensor(fx.tensor("y")).shape, fx.name)
            let dx = kan.backward(engineTensor(fx.tensor("dy")))
            assertRelative(y.array, engineValues(fx.tensor("y")), 1e-5, "\(fx.name) y")
            assertRelative(dx.array, engineValues(fx.tensor("dx")), 1e-4, "\(fx.name) dx")
            assertRelative(base.torchGrad(), fx.tensor("dbase").data, 1e-4, "\(fx.name) d base_linear.weight")
            assertRelative(cheb.torchGrad(), fx.tensor("dcheb").data, 1e-4, "\(fx.name) d polynomial_weight")
            assertRelative(scaler.torchGrad(), fx.tensor("dscaler").data, 1e-4, "\(fx.name) d scaler")
        }
    }

    /// Mean, std and excess kurtosis (normal 0, uniform −1.2: the distribution family) of every KAN
    /// tensor over `draws` seeds must agree with the reference's within 4 standard errors; the scaler
    /// is the constant 1 in both.
    func testInitialisationStatisticsMatchTheReference() throws {
        let cases = try loadFixtureCases("reference_kan").filter { $0.name.hasPrefix("init_") }
        XCTAssertEqual(cases.map(\.name), ["init_d3", "init_d2"])
        let draws = 4000
        for fx in cases {
            let (_, store, base, cheb, scaler) = makeKAN(stride: 1, degree: fx.int("degree"))
            var samples: [String: [Double]] = ["base": [], "cheb": [], "scaler": []]
            for seed in 0..<draws {
                store.initialize(seed: UInt64(seed))
                samples["base"]! += base.torchValues().doubles
                samples["cheb"]! += cheb.torchValues().doubles
                samples["scaler"]! += scaler.torchValues().doubles
            }
            for key in ["base", "cheb", "scaler"] {
                let what = "\(fx.name) \(key)"
                let (na, ma, sa, ka) = Self.moments(samples[key]!)
                let nb = fx.config["\(key)_n"]!, mb = fx.config["\(key)_mean"]!
                let sb = fx.config["\(key)_std"]!, kb = fx.config["\(key)_kurtosis"]!
                if sb == 0 {
                    XCTAssertEqual(sa, 0, "\(what): the reference's is the constant \(mb)")
                    XCTAssertEqual(ma, mb, "\(what): the reference's is the constant \(mb)")
                    continue
                }
                let seMean = (sa * sa / na + sb * sb / nb).squareRoot()
                let seStd = (sa * sa * (ka + 2) / (4 * na) + sb * sb * (kb + 2) / (4 * nb)).squareRoot()
                let seKurt = (24 / na + 24 / nb).squareRoot()
                XCTAssertLessThanOrEqual(abs(ma - mb), 4 * seMean, "\(what): mean \(ma) vs reference \(mb)")
                XCTAssertLessThanOrEqual(abs(sa - sb), 4 * seStd, "\(what): std \(sa) vs reference \(sb)")
                XCTAssertLessThanOrEqual(abs(ka - kb), 4 * seKurt, "\(what): excess kurtosis \(ka) vs reference \(kb) (normal 0, uniform −1.2)")
            }
        }
    }

    /// (n, mean, std, excess kurtosis) of `x`.
    static func moments(_ x: [Double]) -> (Double, Double, Double, Double) {
        let n = Double(x.count), m = x.reduce(0, +) / n
        let v = x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / n
        let k = v > 0 ? x.reduce(0) { $0 + pow($1 - m, 4) } / n / (v * v) - 3 : 0
        return (n, m, v.squareRoot(), k)
    }
}
