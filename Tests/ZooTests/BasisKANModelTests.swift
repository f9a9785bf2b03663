import XCTest
import Foundation
import Engine
@testable import Zoo
import TestSupport

/// The rbf and b_spline KAN convolutions inside models: the reference's grid sizes, thop's count
/// and the reference's initialisation.
final class BasisKANModelTests: XCTestCase {
    /// Model.initialize writes the grids; thop sees rbf's base_linear (K + 1) and nothing of b_spline.
    /// kan_conv2 takes the second degree (the reference passes spline_order[1] = 2 to every KAN type,
    /// fe63108:residual_networks/RKAN_ResNet.py), so the b_spline kan_conv2 has order 2.
    /// The reference's grid sizes: `grid_size = (3, 2)` for kan_conv1 / kan_conv2
    /// (fe63108:residual_networks/RKAN_ResNet.py and the other classes with the argument), and
    /// KAN_Convolutional_Layer's default 3 for both where the class passes none (815a357
    /// RKAN_SENet.py, RKAN_ResNet_D.py).
    func testGridsAreTheReferencesAndCountedLikeThop() throws {
        let rbf = try Model("resnet18(stem=small,width=0.125)+rkan(kan=rbf)", classes: 10)
        rbf.initialize(seed: 3)
        XCTAssertEqual(rbf.store.entry("kan_conv1.3.convs.0.conv.rbf.grid")?.torchValues(), [-1, 0, 1])
        XCTAssertEqual(rbf.store.entry("kan_conv2.3.convs.0.conv.rbf.grid")?.torchValues(), [-1, 1])
        XCTAssertEqual(rbf.store.entry("kan_conv1.3.convs.0.conv.spline_linear.weight")?.shape, [1, 27])
        XCTAssertEqual(rbf.parameterCount - rbf.thopParameterCount, 9 * 3 + 9 * 2)
        let bs = try Model("resnet18(stem=small,width=0.125)+rkan(kan=b_spline)", classes: 10)
        bs.initialize(seed: 3)
        XCTAssertEqual(bs.store.entry("kan_conv1.3.convs.0.conv.grid")?.shape, [9, 10])   // G + 2K + 1, G = 3, K = 3
        XCTAssertEqual(bs.store.entry("kan_conv2.3.convs.0.conv.grid")?.shape, [9, 7])    // G = 2, K = 2
        let knots: [Float] = try XCTUnwrap(bs.store.entry("kan_conv1.3.convs.0.conv.grid")).torchValues()
        let expectedKnots: [Float] = (0..<10).map { Float($0 - 3) * Float(2.0 / 3.0) - 1 }   // (j − K)·h − 1, h = 2/3
        XCTAssertEqual(Array(knots.prefix(10)), expectedKnots)
        XCTAssertEqual(bs.parameterCount - bs.thopParameterCount, (9 + 9 * 6 + 9) + (9 + 9 * 4 + 9))
        let se = try Model("seresnet50(width=0.125)+rkan(kan=rbf)", classes: 10)
        XCTAssertEqual(se.store.entry("kan_conv2.3.convs.0.conv.spline_linear.weight")?.shape, [1, 27], "SE-ResNet: grid 3 for kan_conv2")
        let d = try Model("resnet101d(width=0.125)+rkan(kan=b_spline)", classes: 10)
        XCTAssertEqual(d.store.entry("kan_conv2.3.convs.0.conv.spline_weight")?.shape, [1, 9, 5], "ResNet-D: grid 3, order 2")
    }

    /// After `Model.initialize` the b_spline rows are fitted (no longer the raw uniform draws) and
    /// the rbf spline weights are the truncated normal of SplineLinear (within ±2).
    func testInitialisationIsTheReferences() throws {
        let bs = try Model("resnet18(stem=small,width=0.125)+rkan(kan=b_spline)", classes: 10)
        bs.initialize(seed: 3)
        let w = try XCTUnwrap(bs.store.entry("kan_conv1.3.convs.0.conv.spline_weight")).torchValues().map(Double.init)
        let a = BSplineNoiseFit.basisAtKnots(gridSize: 3, order: 3)
        for tap in 0..<9 {
            let row = Array(w[(tap * 6)..<(tap * 6 + 6)])
            let fitted = a.map { r in zip(r, row).reduce(0) { $0 + $1.0 * $1.1 } }
            XCTAssertTrue(fitted.allSatisfy { abs($0) <= 0.05 / 3 + 1e-6 }, "tap \(tap): A·w is the U(±0.05/G) noise, got \(fitted)")
            for (x, y) in zip(BSplineNoiseFit.coefficients(noise: fitted, gridSize: 3, order: 3), row) {
                XCTAssertEqual(x, y, accuracy: 1e-8, "tap \(tap): the row is the minimum-norm fit of its noise")
            }
        }
        let rbf = try Model("resnet18(stem=small,width=0.125)+rkan(kan=rbf)", classes: 10)
        XCTAssertEqual(rbf.store.parameters.first { $0.name.hasSuffix("spline_linear.weight") }?.initializer,
                       .truncatedNormal(std: 1, low: -2, high: 2))
    }
}
