import CHDF5
import Foundation

/// Process-wide access to libhdf5: one lock around every call, and error capture.
///
/// The Debian build of HDF5 is not thread-safe, so every call into the library goes through
/// `locked(_:)`. The lock is recursive: a locked helper may call another locked helper.
/// Automatic error printing is switched off once; failures are read from the error stack by
/// `lastError()` and turned into `RunStoreError`s instead.
enum HDF5Library {
    private static let lock = NSRecursiveLock()
    nonisolated(unsafe) private static var isSetUp = false

    /// Runs `body` while holding the global HDF5 lock.
    /// - Parameter body: code that calls libhdf5.
    /// - Returns: what `body` returns.
    /// - Throws: what `body` throws.
    static func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        if !isSetUp {
            _ = H5open()
            _ = rk_H5E_silence()
            isSetUp = true
        }
        return try body()
    }

    /// The innermost message on the calling thread's HDF5 error stack ("H5F__super_read:
    /// truncated file: ..."), or "" when there is none. Clears the stack.
    /// Call it (under the lock) right after a failing HDF5 call.
    static func lastError() -> String {
        var buffer = [CChar](repeating: 0, count: 512)
        buffer.withUnsafeMutableBufferPointer { rk_H5E_last_message($0.baseAddress, $0.count) }
        return String(cString: buffer)
    }
}
