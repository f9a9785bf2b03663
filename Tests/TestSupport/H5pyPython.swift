import Foundation

/// The Python interpreter for the h5py interop tests: users read run files with h5py, so these
/// tests must run, not skip. `scripts/setup.sh` installs Debian's python3-h5py and python3-numpy
/// for /usr/bin/python3; a PATH that puts another python3 first (pyenv, a venv) may lack them,
/// so the interpreter is chosen, in order: `$RKAN_PYTHON`, /usr/bin/python3, `python3` on PATH,
/// the first that imports h5py and numpy.
public enum H5pyPython {
    /// The interpreter's path or command (run through /usr/bin/env), nil when none has h5py.
    public static let interpreter: String? = {
        var candidates = ["/usr/bin/python3", "python3"]
        if let p = ProcessInfo.processInfo.environment["RKAN_PYTHON"], !p.isEmpty { candidates.insert(p, at: 0) }
        return candidates.first { (try? run($0, ["-c", "import h5py, numpy"]).status) == 0 }
    }()

    /// The interpreter; throws (a test failure, never a skip) naming how to install h5py.
    public static func require() throws -> String {
        guard let p = interpreter else {
            throw H5pyMissing(description: "no Python with h5py and numpy (tried $RKAN_PYTHON, /usr/bin/python3, python3 on PATH): "
                              + "run scripts/setup.sh (installs python3-h5py and python3-numpy) or set RKAN_PYTHON")
        }
        return p
    }

    public struct H5pyMissing: Error, CustomStringConvertible { public let description: String }

    /// Runs `python arguments…` and returns its status and output.
    public static func run(_ python: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [python] + arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
}
