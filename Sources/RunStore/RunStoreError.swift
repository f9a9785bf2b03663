/// What went wrong reading or writing a run file; each message names the file, the object
/// inside it, and what to do about it.
public enum RunStoreError: Error, CustomStringConvertible, Equatable {
    /// The file does not exist.
    case missingFile(path: String)
    /// The file exists but HDF5 cannot open it (cut short by a crash, or not HDF5 at all).
    case unreadable(path: String, detail: String)
    /// The path cannot be read as a file at all (a folder, a FIFO, a device, no read
    /// permission): nothing is known to be wrong with its content.
    case notReadable(path: String, detail: String)
    /// The file or its folder cannot be created or replaced.
    case cannotWrite(path: String, detail: String)
    /// The file is HDF5 but was written with another `schema` version.
    case wrongSchema(path: String, found: String, expected: String)
    /// An object the layout requires is absent.
    case missingObject(path: String, object: String)
    /// An object has another type or shape than the layout requires.
    case wrongType(path: String, object: String, expected: String, found: String)
    /// A value breaks the layout's rules (bad key name, shape/count mismatch, unknown status).
    case invalidValue(path: String, object: String, detail: String)
    /// Parts of a run file do not match their digests (damaged or edited after writing).
    case corrupt(path: String, parts: [String], detail: String)
    /// A run file's attributes name another slot than the path it was read from.
    case wrongSlot(path: String, mismatches: [String])
    /// An HDF5 call failed for another reason; `detail` is HDF5's own message.
    case hdf5(path: String, object: String, operation: String, detail: String)

    public var description: String {
        switch self {
        case let .missingFile(path):
            return "\(path): no such run file: check the path (run files live under runs/SUITE/PROFILE/ID/)"
        case let .unreadable(path, detail):
            return "\(path): file is truncated or not an HDF5 file (\(detail)): "
                + "move it aside and retrain the run"
        case let .notReadable(path, detail):
            return "\(path): cannot read it: \(detail). Fix the path or its permissions; nothing is known to be wrong with the "
                + "file's content, so do not retrain or delete it"
        case let .cannotWrite(path, detail):
            return "\(path): cannot write (\(detail)): check free disk space and file-size limits (ulimit -f), and that the "
                + "folder exists, is a folder and is writable, or pass another --out; the previous version of the file, if any, is intact"
        case let .wrongSchema(path, found, expected):
            return "\(path): run file schema is \"\(found)\", this build reads \"\(expected)\": "
                + "retrain the run with this build (or read it with the build that wrote it)"
        case let .missingObject(path, object):
            return "\(path): \(object) is missing: the file was not written by rkan-repro or was "
                + "cut short; move it aside and retrain the run"
        case let .wrongType(path, object, expected, found):
            return "\(path): \(object) is \(found), expected \(expected): the file was not written "
                + "by this version of rkan-repro; rewrite it"
        case let .invalidValue(path, object, detail):
            return "\(path): \(object): \(detail)"
        case let .corrupt(path, parts, detail):
            return "\(path): content digest mismatch in \(parts.joined(separator: " and ")) (\(detail)): the file was "
                + "damaged or changed after it was written; move it aside and retrain the run"
        case let .wrongSlot(path, mismatches):
            return "\(path): this run file belongs to another run (\(mismatches.joined(separator: ", "))): it was copied or "
                + "moved here; move it back, or move it aside and retrain the run"
        case let .hdf5(path, object, operation, detail):
            return "\(path): \(operation) \(object) failed (\(detail.isEmpty ? "no HDF5 message" : detail)): "
                + "check free disk space and permissions, then rerun"
        }
    }
}
