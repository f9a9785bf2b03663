import XCTest
@testable import Engine
import TestSupport

/// The virtual shards of a batch (`ShardPlan`) and their one fold order (`ShardFold`).
final class ShardPlanTests: XCTestCase {
    func testShardBoundariesDependOnlyOnTheBatch() {
        let p = ShardPlan(batch: 10, shards: 8)   // a run of batch size ≥ 128, its last batch of 10
        XCTAssertEqual((0..<8).map { p.images(ofShard: $0) }, [0..<1, 1..<2, 2..<3, 3..<5, 5..<6, 6..<7, 7..<8, 8..<10])
        XCTAssertEqual(ShardPlan(batch: 64, shards: 8).images(ofShard: 7), 56..<64)
        XCTAssertEqual(ShardPlan(batch: 3, shards: 8).images(ofShard: 0), 0..<0, "fewer images than shards: empty shards")
        // Rank r of R owns a contiguous block of K/R shards, the same images whatever else runs.
        XCTAssertEqual(p.images(ofRank: 0, ranks: 1), 0..<10)
        XCTAssertEqual([0, 1].map { p.images(ofRank: $0, ranks: 2) }, [0..<5, 5..<10])
        XCTAssertEqual((0..<4).map { p.images(ofRank: $0, ranks: 4) }, [0..<2, 2..<5, 5..<7, 7..<10])
        XCTAssertEqual(p.shards(ofRank: 3, ranks: 4), 6..<8)
    }

    /// One shard per 16 images of the run's batch size, a power of two, at most 8: the paper's
    /// batch 128 keeps 8 shards; smaller batches get fewer, larger shards (below 16 images a
    /// shard's GEMMs get small enough to cost a single process speed).
    func testShardCountFollowsTheBatchSize() {
        let table: [(Int, Int)] = [(1, 1), (16, 1), (31, 1), (32, 2), (63, 2), (64, 4), (100, 4), (127, 4), (128, 8), (256, 8), (4096, 8)]
        for (b, k) in table { XCTAssertEqual(ShardPlan.shards(forBatch: b), k, "batch \(b)") }
        XCTAssertEqual(ShardPlan(batch: 32).shards, 2)
        XCTAssertEqual([0, 1].map { ShardPlan(batch: 32).images(ofShard: $0) }, [0..<16, 16..<32])
        XCTAssertEqual(ShardPlan(batch: 32).validRankCounts, [1, 2])
        XCTAssertEqual(ShardPlan(batch: 20, shards: 2).images(ofRank: 1, ranks: 2), 10..<20, "a last batch keeps the run's count")
    }

    func testRankCountsTheRunsBatchSizeDoesNotAllowAreRefusedWithTheFix() {
        XCTAssertNoThrow(try ShardPlan.check(ranks: 4, batchSize: 64, what: "s.yaml (a)"))
        XCTAssertNoThrow(try ShardPlan.check(ranks: 8, batchSize: 128, what: "s.yaml (a)"))
        XCTAssertThrowsError(try ShardPlan.check(ranks: 4, batchSize: 32, what: "s.yaml (a)")) { e in
            let m = "\(e)"
            XCTAssertTrue(m.contains("s.yaml (a)") && m.contains("batch size 32") && m.contains("use one of 1, 2 ranks")
                          && m.contains("at least 64"), m)
        }
        XCTAssertThrowsError(try ShardPlan.check(ranks: 3, batchSize: 128, what: "s.yaml (a)")) { e in
            XCTAssertTrue("\(e)".contains("1, 2, 4, 8"), "\(e)")
        }
    }

    func testRankCountsThatDoNotDivideTheShardsAreRefusedWithTheValidOnes() {
        XCTAssertEqual(ShardPlan.validRankCounts, [1, 2, 4, 8])
        for ok in [1, 2, 4, 8] { XCTAssertNoThrow(try ShardPlan.check(ranks: ok)) }
        for bad in [0, 3, 5, 6, 16] {
            XCTAssertThrowsError(try ShardPlan.check(ranks: bad)) { e in
                XCTAssertTrue("\(e)".contains("--ranks") && "\(e)".contains("1, 2, 4, 8"), "\(e)")
            }
        }
    }

    /// Values where the order of additions shows: the tree, not left to right.
    static let values: [Float] = [1e8, 1, -1e8, 1, 3, 1e-3, -7, 0.5]

    func testLocalFoldIsTheBinaryTreeOverShardIndices() {
        let v = Self.values
        let tree = ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]))
        let leftToRight = v.reduce(0, +)
        XCTAssertNotEqual(tree, leftToRight, "the fixture must tell the two orders apart")
        var buf = v
        buf.withUnsafeMutableBufferPointer { ShardFold.local($0.baseAddress!, count: 1, shards: 8) }
        XCTAssertEqual(buf[0].bitPattern, tree.bitPattern)
    }

    /// 1, 2, 4 and 8 ranks, each folding its own shards and then across ranks, give the tree's
    /// bytes on every rank.
    func testFoldAcrossRanksGivesTheSingleProcessBytesOnEveryRank() throws {
        let count = 3
        let partials: [[Float]] = (0..<8).map { s in (0..<count).map { j in Self.values[(s + j) % 8] * Float(j + 1) } }
        var single = partials.flatMap { $0 }
        single.withUnsafeMutableBufferPointer { ShardFold.local($0.baseAddress!, count: count, shards: 8) }
        let expected = Array(single[0..<count])
        for ranks in [1, 2, 4, 8] {
            let results = try InProcessRanks.run(ranks: ranks) { comm -> [Float] in
                let mine = ShardPlan(batch: 8, shards: 8).shards(ofRank: comm.rank, ranks: ranks)
                var buf = mine.flatMap { partials[$0] }
                buf.withUnsafeMutableBufferPointer { b in
                    ShardFold.local(b.baseAddress!, count: count, shards: mine.count)
                    ShardFold.acrossRanks(b.baseAddress!, count: count, comm)
                }
                return Array(buf[0..<count])
            }
            for (r, got) in results.enumerated() {
                XCTAssertEqual(got.map(\.bitPattern), expected.map(\.bitPattern), "\(ranks) ranks, rank \(r)")
            }
        }
    }
}
