import XCTest
@testable import Engine
import TestSupport

final class CrossEntropyTests: XCTestCase {
    func testReferenceGradientMatchesFiniteDifferences() {
        let (n, k) = (4, 6)
        let z = testValues(n * k, seed: 1).map { $0 * 4 }
        let soft = testValues(n * k, seed: 2).map { $0 + 1.2 }
        var target = soft
        for r in 0..<n { let s = soft[(r * k)..<((r + 1) * k)].reduce(0, +); for j in 0..<k { target[r * k + j] /= s } }
        for t in [target, PointwiseReference.oneHot([0, 5, 2, 2], classes: k)] {
            for eps in [0.0, 0.1] {
                let (_, dz) = PointwiseReference.softmaxCrossEntropy(logits: z, target: t, n: n, k: k, labelSmoothing: eps)
                let numeric = numericalGradient(z) { PointwiseReference.softmaxCrossEntropy(logits: $0, target: t, n: n, k: k, labelSmoothing: eps).loss }
                assertClose(dz, numeric, rtol: 1e-6, atol: 1e-9, "ε \(eps)")
            }
        }
    }

    func testFloatMatchesReference() throws {
        let (n, k) = (9, 13)
        let logits = randomTensor([n, k], seed: 3, scale: 8)
        let labels = (0..<n).map { ($0 * 7) % k }
        let softValues = testValues(n * k, seed: 4).map { Float($0 + 1.1) }
        var soft = softValues
        for r in 0..<n { let s = softValues[(r * k)..<((r + 1) * k)].reduce(0, +); for j in 0..<k { soft[r * k + j] /= s } }
        for eps: Float in [0, 0.1] {
            let hard = try softmaxCrossEntropy(logits: logits, targets: .labels(labels), labelSmoothing: eps)
            let refHard = PointwiseReference.softmaxCrossEntropy(logits: logits.array.doubles, target: PointwiseReference.oneHot(labels, classes: k),
                                                                 n: n, k: k, labelSmoothing: Double(eps))
            XCTAssertEqual(hard.loss, refHard.loss, accuracy: 1e-12 * max(1, refHard.loss), "hard loss ε \(eps)")
            assertRelative(hard.dlogits.array, refHard.dlogits, 1e-5, "hard dlogits ε \(eps)")
            let sft = try softmaxCrossEntropy(logits: logits, targets: .soft(Tensor(shape: [n, k], values: soft)), labelSmoothing: eps)
            let refSoft = PointwiseReference.softmaxCrossEntropy(logits: logits.array.doubles, target: soft.doubles, n: n, k: k, labelSmoothing: Double(eps))
            XCTAssertEqual(sft.loss, refSoft.loss, accuracy: 1e-9 * max(1, refSoft.loss), "soft loss ε \(eps)")
            assertRelative(sft.dlogits.array, refSoft.dlogits, 1e-5, "soft dlogits ε \(eps)")
        }
    }

    func testHugeLogitsAreStable() throws {
        let logits = Tensor(shape: [2, 3], values: [1000, -1000, 0, 88, 89, 90])
        let r = try softmaxCrossEntropy(logits: logits, targets: .labels([1, 2]))
        // Row 0: lse = 1000 (+ e^-1000 terms), loss = 1000 − (−1000); row 1: loss = log(1 + e^-1 + e^-2).
        let row1: Double = log(1 + exp(-1.0) + exp(-2.0))
        XCTAssertEqual(r.loss, (2000 + row1) / 2, accuracy: 1e-9)
        XCTAssertTrue(r.dlogits.array.allSatisfy(\.isFinite))
    }

    func testPyTorchFixtures() throws {
        let cases = try loadFixtureCases("crossentropy")
        XCTAssertEqual(cases.count, 4)
        for fx in cases {
            let logits = engineTensor(fx.tensor("logits"))
            let targets: Targets = fx.name.hasPrefix("hard") ? .labels(fx.tensor("labels").data.map { Int($0) })
                                                             : .soft(engineTensor(fx.tensor("soft")))
            let r = try softmaxCrossEntropy(logits: logits, targets: targets, labelSmoothing: Float(fx.config["label_smoothing"]!))
            let want = Double(fx.tensor("loss").data[0])
            XCTAssertEqual(r.loss, want, accuracy: 1e-5 * abs(want), "\(fx.name) loss")
            assertRelative(r.dlogits.array, fx.tensor("dlogits").data, 1e-4, "\(fx.name) dlogits")
        }
    }

    func testBadTargetsThrow() {
        let logits = Tensor(zeros: [2, 3])
        assertThrowsMessage(["softmaxCrossEntropy", "label 3", "[2, 3]"]) { _ = try softmaxCrossEntropy(logits: logits, targets: .labels([0, 3])) }
        assertThrowsMessage(["softmaxCrossEntropy", "label -1"]) { _ = try softmaxCrossEntropy(logits: logits, targets: .labels([-1, 0])) }
        assertThrowsMessage(["softmaxCrossEntropy", "1 labels", "[2, 3]"]) { _ = try softmaxCrossEntropy(logits: logits, targets: .labels([0])) }
        assertThrowsMessage(["softmaxCrossEntropy", "[2, 4]", "[2, 3]"]) { _ = try softmaxCrossEntropy(logits: logits, targets: .soft(Tensor(zeros: [2, 4]))) }
        assertThrowsMessage(["softmaxCrossEntropy", "[6]"]) { _ = try softmaxCrossEntropy(logits: Tensor(zeros: [6]), targets: .labels([0])) }
        assertThrowsMessage(["softmaxCrossEntropy", "1.5"]) { _ = try softmaxCrossEntropy(logits: logits, targets: .labels([0, 0]), labelSmoothing: 1.5) }
    }

    func testTopKCorrectAndTies() {
        let logits = Tensor(shape: [4, 4], values: [
            0.1, 0.9, 0.3, 0.2,     // label 1: top-1
            0.5, 0.5, 0.5, 0.5,     // all tied: nothing is greater, so correct for any k
            0.4, 0.3, 0.2, 0.1,     // label 3: three greater → only top-4
            0.7, 0.7, 0.1, 0.2])    // label 0 tied with label 1: top-1 (no logit is strictly greater)
        let labels = [1, 2, 3, 0]
        XCTAssertEqual(topKCorrect(logits: logits, labels: labels, k: 1), 3)
        XCTAssertEqual(topKCorrect(logits: logits, labels: labels, k: 3), 3)
        XCTAssertEqual(topKCorrect(logits: logits, labels: labels, k: 4), 4)
        XCTAssertEqual(topKCorrect(logits: logits, labels: [0, 0, 0, 2], k: 2), 2)
    }

    /// A NaN anywhere in a row is never a correct prediction: every comparison with NaN is
    /// false, so without the rule a NaN logit ranked first (a diverged run read 100 % top-1).
    func testNaNRowsAreNeverCorrect() {
        let logits = Tensor(shape: [3, 3], values: [
            .nan, .nan, .nan,       // all NaN
            0.1, .nan, 0.2,         // NaN elsewhere than the label
            0.9, 0.1, 0.2])         // finite: correct
        XCTAssertEqual(topKCorrect(logits: logits, labels: [0, 2, 0], k: 1), 1)
        XCTAssertEqual(topKCorrect(logits: logits, labels: [0, 2, 0], k: 3), 1)
    }
}
