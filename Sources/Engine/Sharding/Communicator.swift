/// The ranks of one data-parallel run and the two operations the engine needs from them.
///
/// Implementations must either complete an operation or end the process with a non-zero exit
/// (a dead partner or a transport error is fatal): a layer's backward cannot throw, and a run that
/// continued with a missing partial would be silently wrong.
public protocol Communicator: AnyObject {
    /// This process's rank, 0 ..< size.
    var rank: Int { get }
    /// Number of ranks.
    var size: Int { get }
    /// Sends `bytes` bytes from `send` to `partner` and receives as many from it into `recv`.
    func exchange(_ send: UnsafeRawPointer, _ recv: UnsafeMutableRawPointer, bytes: Int, partner: Int)
    /// Copies `bytes` bytes of rank `root`'s buffer into every other rank's.
    func broadcast(_ buffer: UnsafeMutableRawPointer, bytes: Int, root: Int)
    /// Returns when every rank has called it.
    func barrier()
}

/// One process: rank 0 of 1; nothing is ever exchanged.
public final class SingleProcess: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func exchange(_ send: UnsafeRawPointer, _ recv: UnsafeMutableRawPointer, bytes: Int, partner: Int) {
        preconditionFailure("SingleProcess.exchange: there is no partner rank \(partner)")
    }
    public func broadcast(_ buffer: UnsafeMutableRawPointer, bytes: Int, root: Int) {}
    public func barrier() {}
}
