import XCTest
@testable import Engine
import TestSupport

final class ActivationTests: XCTestCase {
    typealias Kind = PointwiseReference.Activation

    private func layer(_ k: Kind) -> Layer {
        switch k {
        case .relu: return ReLU()
        case .silu: return SiLU()
        case .sigmoid: return Sigmoid()
        case .tanh: return Tanh()
        }
    }

    func testReferenceBackwardMatchesFiniteDifferences() {
        // Keep ReLU inputs away from its kink at 0.
        let x = testValues(40, seed: 1).map { $0 * 4 + ($0 >= 0 ? 0.05 : -0.05) }
        let g = testValues(40, seed: 2)
        for k in Kind.allCases {
            let analytic = PointwiseReference.activationBackward(k, x, g)
            let numeric = numericalGradient(x) { dot(PointwiseReference.activationForward(k, $0), g) }
            assertClose(analytic, numeric, rtol: 1e-6, atol: 1e-8, "\(k)")
        }
    }

    func testFloatMatchesReferenceOnAnyShape() throws {
        for shape in [[3, 5, 7, 4], [6, 11], [50_001]] {
            let x = randomTensor(shape, seed: 3, scale: 6), dy = randomTensor(shape, seed: 4)
            for k in Kind.allCases {
                let l = layer(k)
                let y = try l.forward(x, mode: .train)
                let dx = l.backward(dy)
                XCTAssertEqual(y.shape, shape)
                assertRelative(y.array, PointwiseReference.activationForward(k, x.array.doubles), 1e-5, "\(k) y \(shape)")
                assertRelative(dx.array, PointwiseReference.activationBackward(k, x.array.doubles, dy.array.doubles), 1e-5, "\(k) dx \(shape)")
            }
        }
    }

    func testSaturatedInputsStayFinite() throws {
        let x = Tensor(shape: [6], values: [-200, -90, -20, 20, 90, 200])
        for k in Kind.allCases {
            let l = layer(k)
            let y = try l.forward(x, mode: .train)
            let dx = l.backward(Tensor(shape: [6], values: [1, 1, 1, 1, 1, 1]))
            XCTAssertTrue(y.array.allSatisfy(\.isFinite) && dx.array.allSatisfy(\.isFinite), "\(k): \(y.array) \(dx.array)")
        }
    }

    func testReLUGradientAtZeroIsZero() throws {
        let l = ReLU()
        _ = try l.forward(Tensor(shape: [3], values: [-1, 0, 2]), mode: .train)
        XCTAssertEqual(l.backward(Tensor(shape: [3], values: [5, 5, 5])).array, [0, 0, 5])
    }

    func testPyTorchFixtures() throws {
        let kinds: [String: Kind] = ["relu": .relu, "silu": .silu, "sigmoid": .sigmoid, "tanh": .tanh]
        let cases = try loadFixtureCases("activations")
        XCTAssertEqual(Set(cases.map(\.name)), Set(kinds.keys))
        for fx in cases {
            let l = layer(kinds[fx.name]!)
            let x = fx.tensor("x"), dy = fx.tensor("dy")
            let y = try l.forward(Tensor(shape: x.shape, values: x.data), mode: .train)
            let dx = l.backward(Tensor(shape: dy.shape, values: dy.data))
            assertRelative(y.array, fx.tensor("y").data, 1e-5, "\(fx.name) y")
            assertRelative(dx.array, fx.tensor("dx").data, 1e-4, "\(fx.name) dx")
        }
    }

    func testSameBytesForOneAndTwoThreads() throws {
        let x = randomTensor([70_000], seed: 5, scale: 5), dy = randomTensor([70_000], seed: 6)
        for k in Kind.allCases {
            let run = { (t: Int) throws -> [Float] in
                try withThreads(t) { let l = self.layer(k); let y = try l.forward(x, mode: .train); return y.array + l.backward(dy).array }
            }
            assertSameBytes(try run(1), try run(2), "\(k)")
        }
    }
}
