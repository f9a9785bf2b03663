import XCTest
@testable import Detection
import Engine
import TestSupport

/// RPN training targets and losses against torchvision (Fixtures/rpn_loss.json), the matchers,
/// and the Philox sampler's contract.
final class RPNLossTests: XCTestCase {
    func ints(_ t: FixtureTensor) -> [Int] { t.data.map { Int($0) } }

    func testMatchersMatchTorchvision() {
        let cases = detectionFixture("rpn_loss").filter { $0.name.hasPrefix("matcher_") }
        XCTAssertEqual(cases.count, 2)
        for c in cases {
            let m = Matcher(high: Float(c.config["high"]!), low: Float(c.config["low"]!), allowLowQualityMatches: c.int("low_quality") == 1)
            let q = c.tensor("quality")
            XCTAssertEqual(m.match(q.data, gts: q.shape[0], predictions: q.shape[1]), ints(c.tensor("matches")), c.name)
        }
    }

    /// Targets (labels, encoded boxes) equal torchvision's; with torchvision's sampled anchors
    /// injected, both losses and the gradients of 0.7·objectness + 1.3·box agree within 1e-6.
    func testTargetsAndLossesMatchTorchvision() {
        guard let c = detectionFixture("rpn_loss").first(where: { $0.name == "rpn_loss" }) else { return XCTFail("rpn_loss.json has no rpn_loss case") }
        let anchors = c.tensor("anchors").data, a = anchors.count / 4
        var labels: [[Int]] = [], targets: [[Float]] = [], samples: [(positive: [Int], negative: [Int])] = []
        for i in 0..<2 {
            let (l, t) = rpnTargets(anchors: anchors, gtBoxes: c.tensor("gt\(i)").data)
            XCTAssertEqual(l, ints(c.tensor("labels\(i)")), "image \(i) labels")
            assertParity(relativeError(t, c.tensor("targets\(i)").data), 1e-6, "rpn targets image \(i)")
            labels.append(l); targets.append(t)
            samples.append((ints(c.tensor("positive\(i)")), ints(c.tensor("negative\(i)"))))
        }
        let obj = c.tensor("objectness").data, del = c.tensor("deltas").data
        let out = rpnLoss(objectness: [Array(obj[0..<a]), Array(obj[a...])], deltas: [Array(del[0..<(4 * a)]), Array(del[(4 * a)...])],
                          labels: labels, targets: targets, samples: samples,
                          dObjectnessLoss: Float(c.config["d_objectness"]!), dBoxLoss: Float(c.config["d_box"]!))
        let loss = c.tensor("loss").data
        XCTAssertEqual(out.objectness, loss[0], accuracy: 1e-6 * max(1, abs(loss[0])))
        XCTAssertEqual(out.box, loss[1], accuracy: 1e-6 * max(1, abs(loss[1])))
        assertParity(relativeError(out.dObjectness.flatMap { $0 }, c.tensor("dobjectness").data), 1e-6, "rpn d objectness")
        assertParity(relativeError(out.dDeltas.flatMap { $0 }, c.tensor("ddeltas").data), 1e-6, "rpn d deltas")
    }

    /// The sampler draws at most batch·fraction positives and fills the batch with negatives,
    /// from the right sets, without repeats; the same stream gives the same draw, another stream
    /// another one; each candidate is about equally likely.
    func testBalancedSampler() {
        var labels = [Int](repeating: 0, count: 1000)
        for i in stride(from: 0, to: 1000, by: 7) { labels[i] = 1 }
        for i in stride(from: 3, to: 1000, by: 11) { labels[i] = -1 }
        let rng = Philox(seed: 5, purpose: .test, index: 0)
        let (p, n) = sampleBalanced(labels, batchSize: 256, positiveFraction: 0.5, rng: rng)
        XCTAssertEqual(p.count, 128); XCTAssertEqual(n.count, 128)
        XCTAssertTrue(p.allSatisfy { labels[$0] == 1 } && n.allSatisfy { labels[$0] == 0 })
        XCTAssertEqual(Set(p).count, 128); XCTAssertEqual(Set(n).count, 128)
        XCTAssertEqual(p, p.sorted())
        let again = sampleBalanced(labels, batchSize: 256, positiveFraction: 0.5, rng: rng)
        XCTAssertEqual(again.positive, p); XCTAssertEqual(again.negative, n)
        XCTAssertNotEqual(sampleBalanced(labels, batchSize: 256, positiveFraction: 0.5, rng: Philox(seed: 5, purpose: .test, index: 1)).positive, p)
        // Few positives: all of them, and negatives fill the batch.
        var few = [Int](repeating: 0, count: 300); few[10] = 1; few[20] = 1
        let (fp, fn) = sampleBalanced(few, batchSize: 256, positiveFraction: 0.5, rng: rng)
        XCTAssertEqual(fp, [10, 20]); XCTAssertEqual(fn.count, 254)
        // Uniformity: negatives are 1000 − positives − ignored; 128 of them drawn each time, so over
        // 400 draws each is picked Binomial(400, 128/count) times: all within 5 standard deviations.
        let negatives = labels.filter { $0 == 0 }.count
        var hits = [Int: Int]()
        for s in 0..<400 {
            for i in sampleBalanced(labels, batchSize: 256, positiveFraction: 0.5, rng: Philox(seed: UInt64(s), purpose: .test, index: 9)).negative { hits[i, default: 0] += 1 }
        }
        let q = 128.0 / Double(negatives), expected = 400 * q
        XCTAssertEqual(hits.count, negatives, "every negative drawn at some point")
        XCTAssertLessThan(hits.values.map { abs(Double($0) - expected) }.max()!, 5 * (400 * q * (1 - q)).squareRoot())
    }
}
