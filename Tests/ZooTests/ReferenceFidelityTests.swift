import XCTest
import Engine
@testable import Zoo

/// Where the zoo follows the reference classes of the README tables (withray/residualKAN;
/// fe63108 classes for R7, 815a357 for RKAN_SENet / RKAN_ResNet_D): kan_conv2's degree and stage,
/// the class attribute in the keys, initialisations, and DenseNet's stage 4.
final class ReferenceFidelityTests: XCTestCase {
    private func shape(_ m: Model, _ key: String) -> [Int]? { m.store.entry(key)?.shape }

    // MARK: - degree option

    func testDegreeOptionParsesBothFormsAndPrintsCanonically() throws {
        let d = try XCTUnwrap(try ModelSpec(parsing: "resnet18+rkan").rkan)
        XCTAssertEqual([d.degree, d.degree2], [3, 2], "default: the reference's spline_order = (3, 2)")
        XCTAssertEqual(try ModelSpec(parsing: "resnet18+rkan(degree=3/2)").description, "resnet18+rkan")
        let old = try XCTUnwrap(try ModelSpec(parsing: "resnet18+rkan(degree=3)").rkan)
        XCTAssertEqual([old.degree, old.degree2], [3, 3], "one number keeps its old meaning: both convs")
        XCTAssertEqual(try ModelSpec(parsing: "resnet18+rkan(degree=3)").description, "resnet18+rkan(degree=3)")
        XCTAssertEqual(try ModelSpec(parsing: "resnet18+rkan(degree=4/3)").description, "resnet18+rkan(degree=4/3)")
        for bad in ["3/2/1", "0", "9/2", "a", "3/"] {
            XCTAssertThrowsError(try ModelSpec(parsing: "resnet18+rkan(degree=\(bad))"), bad) { e in
                XCTAssertTrue("\(e)".contains("degree must be A/B"), "\(e)")
            }
        }
    }

    func testKANConv2HasDegree2AndSitsOnStage4Only() throws {
        let m = try Model("resnet18(stem=small,width=0.25)+rkan", classes: 10)
        XCTAssertEqual(shape(m, "kan_conv1.3.convs.0.conv.polynomial_weight"), [1, 9, 4])
        XCTAssertEqual(shape(m, "kan_conv2.3.convs.0.conv.polynomial_weight"), [1, 9, 3])
        XCTAssertEqual(shape(m, "kan_conv2.3.convs.0.conv.scaler"), [1, 9])
        let both3 = try Model("resnet18(stem=small,width=0.25)+rkan(degree=3)", classes: 10)
        XCTAssertEqual(shape(both3, "kan_conv2.3.convs.0.conv.polynomial_weight"), [1, 9, 4])
        XCTAssertEqual(both3.parameterCount - m.parameterCount, 9, "one more Chebyshev coefficient per tap")
        // `if i == len(self.mechanisms) - 1`: stage 4, whatever other stages carry RKAN.
        let e = try Model("resnet18(stem=small,width=0.25)+rkan(stages=3/4)", classes: 10)
        XCTAssertNotNil(shape(e, "kan_conv2.3.convs.0.conv.polynomial_weight"))
        XCTAssertNil(shape(e, "kan_conv2.2.convs.0.conv.polynomial_weight"))
        let only3 = try Model("resnet18(stem=small,width=0.25)+rkan(stages=3)", classes: 10)
        XCTAssertFalse(only3.store.floatEntries.contains { $0.name.hasPrefix("kan_conv2.") }, "no stage 4, no kan_conv2")
    }

    // MARK: - keys of the reference classes

    func testKeysUseTheReferenceClassAttribute() throws {
        func prefixes(_ spec: String) throws -> Set<String> {
            Set(try Model(spec, classes: 10).store.floatEntries.map { String($0.name.split(separator: ".")[0]) })
        }
        XCTAssertTrue(try prefixes("resnext50_32x4d(width=0.25)+rkan").contains("resnext"))
        XCTAssertTrue(try prefixes("wide_resnet50_2(width=0.125)+rkan").contains("wideresnet"))
        XCTAssertTrue(try prefixes("seresnet50(width=0.25)+rkan").contains("resnet"))
        let d = try Model("resnet101d(width=0.125)+rkan", classes: 10)
        for key in ["stem.0.weight", "stem.1.running_var", "stem.3.weight", "stem.4.weight", "stem.6.weight", "bn1.weight",
                    "layer1.0.downsample.0.weight", "layer1.0.downsample.1.running_mean",
                    "layer2.0.downsample.1.weight", "layer2.0.downsample.2.weight", "conv_reduce.3.weight"] {
            XCTAssertNotNil(shape(d, key), key)
        }
        XCTAssertNil(shape(d, "conv1.0.weight"), "timm's keys are gone")
        XCTAssertEqual(try Model("resnet101d(width=0.125)", classes: 10).store.floatEntries.map(\.name),
                       d.store.floatEntries.map(\.name).filter { key in !["conv_reduce", "kan_", "conv_expand"].contains { key.hasPrefix($0) } },
                       "RKANet_D keeps its modules at top level with or without RKAN")
    }

    func testMechanismsFollowEachReferenceClass() throws {
        XCTAssertThrowsError(try Model("resnext50_32x4d(width=0.25)+rkan(mech=gating)", classes: 10)) { e in
            XCTAssertTrue("\(e)".contains("no gate_convs"), "\(e)")
        }
        XCTAssertNoThrow(try Model("seresnet50(width=0.25)+rkan(mech=gating)", classes: 10))
        XCTAssertNotNil(shape(try Model("resnext50_32x4d(width=0.25)+rkan(mech=se)", classes: 10), "se_blocks.3.1.bias"))
        XCTAssertNil(shape(try Model("resnet50(width=0.25)+rkan(mech=se)", classes: 10), "se_blocks.3.1.bias"))
    }

    // MARK: - initialisation

    func testInitializersFollowTheReferenceClasses() throws {
        func initializer(_ m: Model, _ key: String) throws -> Initializer { try XCTUnwrap(m.store.entry(key), key).initializer }
        let fanOut = { (o: Int, k: Int) in Initializer.kaimingNormalFanOut(fanOut: o * k * k) }
        let pytorch = { (fanIn: Int) in Initializer.uniform(bound: Float(1 / Double(fanIn).squareRoot())) }
        // torchvision's own modules keep torchvision's init.
        let plain = try Model("resnet50(width=0.25)+rkan", classes: 10)
        XCTAssertEqual(try initializer(plain, "resnet.layer1.0.conv2.weight"), fanOut(16, 3))
        // Modules the RKAN class builds: PyTorch's default; the KAN conv: reset_parameters.
        XCTAssertEqual(try initializer(plain, "conv_reduce.3.weight"), pytorch(256))
        XCTAssertEqual(try initializer(plain, "conv_expand.3.weight"), pytorch(128))
        XCTAssertEqual(try initializer(plain, "kan_conv1.3.convs.0.conv.base_linear.weight"), .normal(std: Float((2.0 / 9).squareRoot())))
        XCTAssertEqual(try initializer(plain, "kan_conv2.3.convs.0.conv.polynomial_weight"), .normal(std: Float(1 / 27.0.squareRoot())))
        // SE blocks swapped in after torchvision's init: the whole block is PyTorch-default, the reused
        // downsample is torchvision's.
        let se = try Model("seresnet50(width=0.25)", classes: 10)
        XCTAssertEqual(try initializer(se, "layer1.0.conv1.weight"), pytorch(16))
        XCTAssertEqual(try initializer(se, "layer1.0.conv2.weight"), pytorch(16 * 9))
        XCTAssertEqual(try initializer(se, "layer1.0.conv3.weight"), pytorch(16))
        XCTAssertEqual(try initializer(se, "layer1.0.se.fc1.weight"), pytorch(64))
        XCTAssertEqual(try initializer(se, "layer1.0.se.fc2.weight"), pytorch(4))
        XCTAssertEqual(try initializer(se, "layer1.0.downsample.0.weight"), fanOut(64, 1))
        let ela = try Model("ela_l_resnet50(width=0.25)", classes: 10)
        XCTAssertEqual(try initializer(ela, "layer2.1.conv2.weight"), pytorch(32 * 9))
        // RKANet_D's new stem and average-pool shortcut convs; layer1's shortcut is torchvision's.
        let d = try Model("resnet101d(width=0.125)", classes: 10)
        XCTAssertEqual(try initializer(d, "stem.0.weight"), pytorch(27))
        XCTAssertEqual(try initializer(d, "stem.6.weight"), pytorch(4 * 9))
        XCTAssertEqual(try initializer(d, "layer2.0.downsample.1.weight"), pytorch(32))
        XCTAssertEqual(try initializer(d, "layer1.0.downsample.0.weight"), fanOut(32, 1))
        XCTAssertEqual(try initializer(d, "layer1.0.conv1.weight"), fanOut(8, 1))
    }

    /// The drawn values of PyTorch's default init: U(±1/√fan_in), so mean 0 and std bound/√3
    /// (within 4 standard errors), and never beyond the bound.
    func testPyTorchDefaultInitDrawsTheUniformDistribution() throws {
        let m = try Model("resnet50(width=0.25)+rkan", classes: 10)
        m.initialize(seed: 3)
        let v = try XCTUnwrap(m.store.entry("conv_expand.3.weight")).torchValues().map(Double.init)   // (512, 128, 1, 1)
        let bound = 1 / 128.0.squareRoot(), n = Double(v.count)
        let mean = v.reduce(0, +) / n, sd = (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (n - 1)).squareRoot()
        let std = bound / 3.0.squareRoot()
        XCTAssertLessThan(abs(mean), 4 * std / n.squareRoot())
        // std of a uniform sample: SE ≈ σ·√(0.2/n) (fourth moment 9/5 σ⁴).
        XCTAssertLessThan(abs(sd - std), 4 * std * (0.2 / n).squareRoot(), "std \(sd) vs \(std)")
        XCTAssertTrue(v.allSatisfy { abs($0) <= bound })
    }

    // MARK: - DenseNet stage 4

    /// The reference applies norm5 and no ReLU before the pool (RKAN_DenseNet.forward, also the
    /// baselines): with norm5 = (weight 0, bias −2) every pooled feature is −2, so the logits are
    /// classifier(−2·1); with torchvision's ReLU they would be classifier(0) = its bias.
    func testDenseNetStage4HasNoReLUAfterNorm5() throws {
        for spec in ["densenet121(stem=small,width=0.125)", "densenet121(stem=small,width=0.125)+rkan"] {
            let m = try Model(spec, classes: 3)
            m.initialize(seed: 1)
            let p = spec.hasSuffix("+rkan") ? "densenet." : ""
            let w5 = try XCTUnwrap(m.store.entry(p + "features.norm5.weight")), b5 = try XCTUnwrap(m.store.entry(p + "features.norm5.bias"))
            w5.setTorchValues([Float](repeating: 0, count: w5.count))
            b5.setTorchValues([Float](repeating: -2, count: b5.count))
            if spec.hasSuffix("+rkan") {   // silence the residual: kan_expand_bn = (0, 0)
                for k in ["kan_expand_bn.3.weight", "kan_expand_bn.3.bias"] {
                    let e = try XCTUnwrap(m.store.entry(k)); e.setTorchValues([Float](repeating: 0, count: e.count))
                }
            }
            let logits = try m.forward(Tensor(zeros: [1, 8, 8, 3]), mode: .eval).array
            let w = try XCTUnwrap(m.store.entry(p + "classifier.weight")).torchValues()
            let b = try XCTUnwrap(m.store.entry(p + "classifier.bias")).torchValues()
            let f = w5.count
            for k in 0..<3 {
                let expected = b[k] + (0..<f).reduce(Float(0)) { $0 + w[k * f + $1] * -2 }
                XCTAssertEqual(logits[k], expected, accuracy: 1e-4 * max(1, abs(expected)), "\(spec) logit \(k)")
            }
        }
    }
}
