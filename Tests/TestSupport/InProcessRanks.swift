import Engine
import Foundation

/// R ranks as R threads of one process, for testing data-parallel code without `mpirun`:
/// `run(ranks:)` starts one thread per rank with its own `Communicator` and returns each rank's
/// result. Exchanges go through per-(sender, receiver) queues under one condition variable.
public final class InProcessRanks: @unchecked Sendable {
    public let size: Int
    private let cond = NSCondition()
    private var queues: [[[UInt8]]]     // index from·size + to, FIFO
    private var arrived = 0, generation = 0

    init(size: Int) {
        self.size = size
        queues = Array(repeating: [], count: size * size)
    }

    /// Runs `body(communicator)` on `ranks` threads and returns the results in rank order.
    public static func run<T>(ranks: Int, _ body: @escaping (Communicator) throws -> T) throws -> [T] {
        let world = InProcessRanks(size: ranks)
        let results = Results<T>(count: ranks), group = DispatchGroup()
        for r in 0..<ranks {
            group.enter()
            let t = Thread {
                results.set(r, Result { try body(Rank(world: world, rank: r)) })
                group.leave()
            }
            t.stackSize = 16 << 20
            t.start()
        }
        group.wait()
        return try results.values.map { try $0!.get() }
    }

    func send(_ bytes: [UInt8], from: Int, to: Int) {
        cond.lock(); queues[from * size + to].append(bytes); cond.broadcast(); cond.unlock()
    }

    func receive(from: Int, to: Int) -> [UInt8] {
        cond.lock()
        defer { cond.unlock() }
        while queues[from * size + to].isEmpty { cond.wait() }
        return queues[from * size + to].removeFirst()
    }

    func barrier() {
        cond.lock()
        defer { cond.unlock() }
        let g = generation
        arrived += 1
        if arrived == size { arrived = 0; generation += 1; cond.broadcast(); return }
        while generation == g { cond.wait() }
    }

    /// The ranks' results, written by their threads.
    final class Results<T>: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var values: [Result<T, Error>?]
        init(count: Int) { values = Array(repeating: nil, count: count) }
        func set(_ i: Int, _ r: Result<T, Error>) { lock.lock(); values[i] = r; lock.unlock() }
    }

    /// One rank's view.
    final class Rank: Communicator {
        let world: InProcessRanks
        let rank: Int
        var size: Int { world.size }
        init(world: InProcessRanks, rank: Int) { self.world = world; self.rank = rank }

        func exchange(_ send: UnsafeRawPointer, _ recv: UnsafeMutableRawPointer, bytes: Int, partner: Int) {
            world.send(Array(UnsafeRawBufferPointer(start: send, count: bytes)), from: rank, to: partner)
            let got = world.receive(from: partner, to: rank)
            precondition(got.count == bytes, "InProcessRanks: rank \(rank) expected \(bytes) bytes from \(partner), got \(got.count)")
            got.withUnsafeBytes { recv.copyMemory(from: $0.baseAddress!, byteCount: bytes) }
        }

        func broadcast(_ buffer: UnsafeMutableRawPointer, bytes: Int, root: Int) {
            if rank == root {
                let b = Array(UnsafeRawBufferPointer(start: buffer, count: bytes))
                for r in 0..<size where r != root { world.send(b, from: root, to: r) }
            } else {
                let got = world.receive(from: root, to: rank)
                got.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: bytes) }
            }
        }

        func barrier() { world.barrier() }
    }
}
