import XCTest
import Engine
import Distributed
import TestSupport
@testable import Harness

/// How a run finds its ranks (`MPILaunch`) and cuts a batch for one rank (`DataParallel.local`),
/// without starting MPI (the mpirun end-to-end tests are `CLITests.DataParallelTests`).
final class DataParallelSetupTests: XCTestCase {
    func testWorldSizeComesFromTheLauncherEnvironment() {
        XCTAssertNil(MPILaunch.worldSize([:]))
        XCTAssertEqual(MPILaunch.worldSize(["OMPI_COMM_WORLD_SIZE": "4"]), 4)
        XCTAssertEqual(MPILaunch.worldSize(["PMIX_RANK": "0", "SLURM_STEP_NUM_TASKS": "2", "SLURM_NTASKS": "8"]), 2)
        XCTAssertNil(MPILaunch.worldSize(["SLURM_NTASKS": "8"]), "an allocation alone is not a launch")
        XCTAssertEqual(MPILaunch.timeout([:]), 300)
        XCTAssertEqual(MPILaunch.timeout(["RKAN_MPI_TIMEOUT": "20"]), 20)
    }

    func testRanksWithoutALauncherOrThatDoNotDivideTheShardsAreRefused() throws {
        try XCTSkipIf(MPILaunch.worldSize() != nil, "this test process itself runs under an MPI launcher")
        XCTAssertEqual(try MPILaunch.communicator(requested: nil).size, 1)
        XCTAssertEqual(try MPILaunch.communicator(requested: 1).size, 1)
        XCTAssertThrowsError(try MPILaunch.communicator(requested: 2)) { e in
            XCTAssertTrue("\(e)".contains("mpirun -np 2"), "\(e)")
        }
        XCTAssertThrowsError(try MPILaunch.communicator(requested: 6)) { e in
            XCTAssertTrue("\(e)".contains("1, 2, 4, 8"), "\(e)")
        }
        XCTAssertThrowsError(try MPILaunch.communicator(requested: nil, ["SLURM_STEP_NUM_TASKS": "2"])) { e in
            XCTAssertTrue("\(e)".contains("srun --mpi=pmix"), "\(e)")
        }
        XCTAssertEqual(DataParallel.validRankCounts, [1, 2, 4, 8])
        XCTAssertTrue(DataParallel.rankAdvice(3).contains("1, 2, 4, 8"))
    }

    /// Rank 1 of 2 keeps images 5..<10 of a batch of 10 (shards 4..<8), with their labels and
    /// soft-target rows, and its layers see the batch as distributed over 10 images.
    func testLocalBatchIsTheRanksShards() throws {
        let n = 10, k = 3
        let images = Tensor(shape: [n, 2, 2, 1], values: (0..<(n * 4)).map(Float.init))
        let soft = Tensor(shape: [n, k], values: (0..<(n * k)).map(Float.init))
        let batch = TrainBatch(images: images, labels: Array(0..<n), targets: .soft(soft))
        let results = try InProcessRanks.run(ranks: 2) { comm -> TrainBatch in
            let dp = DataParallel(sharding: BatchSharding(communicator: comm))
            try dp.configure(batchSize: 128, what: "test")   // 8 shards; the last batch of a run has 10
            let local = dp.local(batch)
            XCTAssertEqual(dp.sharding.scope, .distributed(globalBatch: n))
            return local
        }
        XCTAssertEqual(results[1].labels, Array(5..<10))
        XCTAssertEqual(results[1].images.array, Array(images.array[20..<40]))
        guard case let .soft(t) = results[1].targets else { return XCTFail("soft targets lost") }
        XCTAssertEqual(t.array, Array(soft.array[15..<30]))
        XCTAssertEqual(results[0].labels, Array(0..<5))
    }
}
