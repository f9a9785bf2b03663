import XCTest
import Engine
import Zoo
import TestSupport

/// A NaN in the input or in any weight reaches the logits of every zoo family, in eval and
/// train mode, as in PyTorch: the divergence checks and `forward` cannot report finite logits
/// computed from a NaN.
final class NonFiniteModelTests: XCTestCase {
    static let specs = ["resnet18(stem=small,width=0.125)", "resnet18(stem=small,width=0.125)+rkan",
                        "resnet18(stem=small,width=0.125)+rkan(kan=rbf)", "resnet18(stem=small,width=0.125)+rkan(kan=b_spline)",
                        "resnet50(stem=small,width=0.0625)+rkan(mech=se)", "densenet121(stem=small,width=0.125)",
                        "regnet_y_400mf(stem=small,width=0.25)", "ela_l_resnet50(stem=small,width=0.25)", "resnet50(stem=small,width=0.125)+rkan(inv=4)"]

    func testNaNInputReachesTheLogits() throws {
        for spec in Self.specs {
            let m = try Model(spec, classes: 5)
            m.initialize(seed: 1)
            var v: [Float] = (0..<2 * 16 * 16 * 3).map { (i: Int) -> Float in Float((i * 37) % 101) / 101 - 0.5 }
            v[3 * (16 * 8 + 8)] = .nan   // one channel of one pixel of image 0
            for mode in [Mode.eval, .train] {
                let y: [Float] = try m.forward(Tensor(shape: [2, 16, 16, 3], values: v), mode: mode).array
                XCTAssertTrue(y[0..<5].allSatisfy { $0.isNaN }, "\(spec) \(mode): image 0 logits \(y[0..<5])")
                if mode == .eval { XCTAssertTrue(y[5..<10].allSatisfy { $0.isFinite }, "\(spec): image 1 is untouched in eval mode") }
            }
        }
    }

    func testNaNWeightReachesTheLogits() throws {
        for spec in Self.specs.prefix(2) {
            let m = try Model(spec, classes: 5)
            m.initialize(seed: 1)
            let first = try XCTUnwrap(m.store.parameters.first { $0.shape.count == 4 })
            var w = first.torchValues()
            w[0] = .nan
            first.setTorchValues(w)
            let xs: [Float] = (0..<16 * 16 * 3).map { (i: Int) -> Float in Float(i % 7) / 7 }
            let y: [Float] = try m.forward(Tensor(shape: [1, 16, 16, 3], values: xs), mode: .eval).array
            XCTAssertTrue(y.allSatisfy { $0.isNaN }, "\(spec): \(y)")
        }
    }
}
