import CHDF5
import Engine
import Foundation

/// One open HDF5 file: groups, datasets (`HDF5File+Datasets`) and attributes
/// (`HDF5File+Attributes`), with every failure thrown as a `RunStoreError`.
///
/// Objects are created with timestamps off and groups track link creation order, so equal
/// content written in the same order gives byte-identical files, and members list back in the
/// order they were written. Object paths are absolute (`/weights/conv1.weight`); names may
/// contain dots but not `/`. All calls hold the global HDF5 lock (`HDF5Library`).
public final class HDF5File {
    /// Whether the file may be modified.
    public enum Mode: Sendable { case create, readOnly }

    /// File-system path, used in every error message.
    public let path: String
    public let mode: Mode
    private(set) var id: hid_t
    /// Whether the file carried a `FileSeal` that matched its bytes when it was opened (files
    /// rkan-repro writes are sealed; files of other programs are not).
    public private(set) var sealed = false
    /// Datasets written through this object, in order (the seal covers their stored values).
    var writtenDatasets: [String] = []

    private init(path: String, mode: Mode, id: hid_t) {
        self.path = path; self.mode = mode; self.id = id
    }

    /// Creates (or truncates) a file for writing.
    /// - Parameter path: file-system path; its folder must exist.
    /// - Returns: the open file.
    /// - Throws: `RunStoreError.cannotWrite` when the file cannot be created.
    public static func create(_ path: String) throws -> HDF5File {
        try HDF5Library.locked {
            let fcpl = fileCreationList()
            defer { _ = H5Pclose(fcpl) }
            let fapl = fileAccessList()
            defer { _ = H5Pclose(fapl) }
            let id = H5Fcreate(path, rk_H5F_ACC_TRUNC(), fcpl, fapl)
            guard id >= 0 else {
                let hdf5 = HDF5Library.lastError()
                throw RunStoreError.cannotWrite(path: path, detail: HDF5File.folderProblem(path) ?? hdf5)
            }
            return HDF5File(path: path, mode: .create, id: id)
        }
    }

    /// Creates a file that lives in memory only (HDF5's core driver, no backing store): HDF5
    /// never touches the disk, so a full disk cannot leave the library with a half-written file
    /// it fails to flush again at exit. `AtomicFile` takes the bytes with `image()` and writes them.
    /// - Parameter name: the target path, used in error messages only.
    /// - Returns: the open file.
    /// - Throws: `RunStoreError.cannotWrite` when HDF5 refuses (out of memory).
    public static func createInMemory(name: String) throws -> HDF5File {
        try HDF5Library.locked {
            let fcpl = fileCreationList()
            defer { _ = H5Pclose(fcpl) }
            let fapl = fileAccessList()
            defer { _ = H5Pclose(fapl) }
            _ = H5Pset_fapl_core(fapl, 1 << 20, false)
            let id = H5Fcreate(name, rk_H5F_ACC_TRUNC(), fcpl, fapl)
            guard id >= 0 else {
                throw RunStoreError.cannotWrite(path: name, detail: "HDF5 cannot create the file in memory: \(HDF5Library.lastError())")
            }
            return HDF5File(path: name, mode: .create, id: id)
        }
    }

    /// The file's bytes followed by their `FileSeal`; for `createInMemory` files.
    /// - Throws: as `image()`, and `.hdf5` when a dataset's storage cannot be located.
    public func sealedImage() throws -> [UInt8] {
        try HDF5Library.locked {
            let bytes = try image()
            let extents = try writtenDatasets.compactMap { object in try storedExtent(object).map { (object, $0.offset, $0.length) } }
            return bytes + FileSeal.trailer(image: bytes, datasets: extents)
        }
    }

    /// The file's bytes as they would be on disk (flushes first); for `createInMemory` files.
    /// Equal to what the same writes through `create` leave on disk after `close`.
    /// - Throws: `RunStoreError.hdf5` when HDF5 cannot produce the image.
    public func image() throws -> [UInt8] {
        try HDF5Library.locked {
            try checkOpen("/", writing: false)
            // H5Fget_file_image alone leaves metadata in the cache (HDF5 1.10): flush first.
            guard H5Fflush(id, H5F_SCOPE_GLOBAL) >= 0 else {
                throw RunStoreError.hdf5(path: path, object: "/", operation: "flushing", detail: HDF5Library.lastError())
            }
            let size = H5Fget_file_image(id, nil, 0)
            guard size > 0 else {
                throw RunStoreError.hdf5(path: path, object: "/", operation: "taking the image of", detail: HDF5Library.lastError())
            }
            var bytes = [UInt8](repeating: 0, count: size)
            let got = bytes.withUnsafeMutableBytes { H5Fget_file_image(id, $0.baseAddress, size) }
            guard got == size else {
                throw RunStoreError.hdf5(path: path, object: "/", operation: "taking the image of", detail: HDF5Library.lastError())
            }
            return bytes
        }
    }

    /// Opens an existing file read-only, after checking a sealed file's bytes (`FileSeal`).
    /// - Parameter path: file-system path.
    /// - Returns: the open file.
    /// - Throws: `RunStoreError.missingFile`, `.corrupt` (a sealed file whose bytes changed) or
    ///   `.unreadable` (truncated, not HDF5).
    public static func openReadOnly(_ path: String) throws -> HDF5File {
        guard InputFile.exists(path) else { throw RunStoreError.missingFile(path: path) }
        // A folder traps in Foundation's file handle and a FIFO blocks its open: check the kind first.
        if let problem = InputFile.problem(path) { throw RunStoreError.notReadable(path: path, detail: problem) }
        // Plain bytes first: a sealed file whose bytes changed never reaches HDF5's parser.
        let sealedParts = try FileSeal.verifiedParts(path: path)
        return try HDF5Library.locked {
            let fapl = fileAccessList()
            defer { _ = H5Pclose(fapl) }
            let id = H5Fopen(path, rk_H5F_ACC_RDONLY(), fapl)
            guard id >= 0 else {
                let detail = HDF5Library.lastError()
                throw RunStoreError.unreadable(path: path, detail: detail.isEmpty ? "HDF5 cannot open it" : detail)
            }
            // The seal's part names are covered by no checksum: each must be an object of the file.
            if let missing = sealedParts?.first(where: { H5Lexists(id, "/" + $0, rk_H5P_DEFAULT()) <= 0 }) {
                _ = H5Fclose(id)
                throw RunStoreError.corrupt(path: path, parts: ["seal (the checksum trailer)"],
                                            detail: "it names a part /\(missing) that the file does not have")
            }
            let file = HDF5File(path: path, mode: .readOnly, id: id)
            file.sealed = sealedParts != nil
            return file
        }
    }

    /// The root group is created from the file-creation list: no timestamps, ordered links.
    private static func fileCreationList() -> hid_t {
        let fcpl = H5Pcreate(rk_H5P_FILE_CREATE())
        _ = H5Pset_obj_track_times(fcpl, false)
        _ = H5Pset_link_creation_order(fcpl, rk_H5P_CRT_ORDER_TRACKED() | rk_H5P_CRT_ORDER_INDEXED())
        return fcpl
    }

    /// Strong close degree: closing the file closes every object still open in it.
    private static func fileAccessList() -> hid_t {
        let fapl = H5Pcreate(rk_H5P_FILE_ACCESS())
        _ = H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG)
        return fapl
    }

    /// Why `path`'s folder cannot hold a new file, if the file system says so.
    private static func folderProblem(_ path: String) -> String? {
        let folder = (path as NSString).deletingLastPathComponent
        var isFolder: ObjCBool = false
        if !FileManager.default.fileExists(atPath: folder.isEmpty ? "." : folder, isDirectory: &isFolder) {
            return "folder \(folder) does not exist"
        }
        if !isFolder.boolValue { return "\(folder) is not a folder" }
        if !FileManager.default.isWritableFile(atPath: folder.isEmpty ? "." : folder) {
            return "folder \(folder) is not writable"
        }
        return nil
    }

    deinit {
        if id >= 0 { HDF5Library.locked { _ = H5Fclose(id) } }
    }

    /// Flushes and closes the file; further calls on this object throw.
    /// - Throws: `RunStoreError.hdf5` when the data cannot be written out (disk full).
    public func close() throws {
        try HDF5Library.locked {
            guard id >= 0 else { return }
            let fileID = id
            id = -1
            if mode == .create, H5Fflush(fileID, H5F_SCOPE_GLOBAL) < 0 {
                let detail = HDF5Library.lastError()
                _ = H5Fclose(fileID)
                throw RunStoreError.hdf5(path: path, object: "/", operation: "flushing", detail: detail)
            }
            if H5Fclose(fileID) < 0 {
                throw RunStoreError.hdf5(path: path, object: "/", operation: "closing", detail: HDF5Library.lastError())
            }
        }
    }

    // MARK: Objects

    /// Throws unless the file is open (and, for `writing`, open for writing).
    func checkOpen(_ object: String, writing: Bool) throws {
        guard id >= 0 else {
            throw RunStoreError.invalidValue(path: path, object: object, detail: "file already closed")
        }
        if writing && mode == .readOnly {
            throw RunStoreError.invalidValue(path: path, object: object, detail: "file is open read-only")
        }
    }

    /// Splits `/a/b/c` into `["a", "b", "c"]`, rejecting empty names and relative paths.
    func components(_ object: String) throws -> [String] {
        guard object.hasPrefix("/") else {
            throw RunStoreError.invalidValue(path: path, object: object, detail: "object paths must start with /")
        }
        let parts = object.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        if object == "/" { return [] }
        for p in parts where p.isEmpty || p == "." || p == ".." {
            throw RunStoreError.invalidValue(path: path, object: object,
                                             detail: "empty, \".\" or \"..\" name component")
        }
        return parts
    }

    /// Whether an object (group or dataset) exists at `object`.
    /// - Parameter object: absolute object path; `/` always exists.
    /// - Returns: true when every component of the path exists.
    public func exists(_ object: String) throws -> Bool {
        try HDF5Library.locked {
            try checkOpen(object, writing: false)
            var prefix = ""
            for part in try components(object) {
                prefix += "/" + part
                let r = H5Lexists(id, prefix, rk_H5P_DEFAULT())
                if r < 0 { _ = HDF5Library.lastError(); return false }
                if r == 0 { return false }
            }
            return true
        }
    }

    /// Creates a group and any missing parents (each without timestamps, tracking link order).
    /// Existing groups on the path are kept.
    /// - Parameter object: absolute group path, e.g. `/state/rng`.
    /// - Throws: `RunStoreError.hdf5` when HDF5 refuses (read-only file, a dataset in the way).
    public func createGroup(_ object: String) throws {
        try HDF5Library.locked {
            try checkOpen(object, writing: true)
            var prefix = ""
            for part in try components(object) {
                prefix += "/" + part
                if try exists(prefix) { continue }
                let gcpl = H5Pcreate(rk_H5P_GROUP_CREATE())
                defer { _ = H5Pclose(gcpl) }
                _ = H5Pset_obj_track_times(gcpl, false)
                _ = H5Pset_link_creation_order(gcpl, rk_H5P_CRT_ORDER_TRACKED() | rk_H5P_CRT_ORDER_INDEXED())
                let g = H5Gcreate2(id, prefix, rk_H5P_DEFAULT(), gcpl, rk_H5P_DEFAULT())
                guard g >= 0 else {
                    throw RunStoreError.hdf5(path: path, object: prefix, operation: "creating group",
                                             detail: HDF5Library.lastError())
                }
                _ = H5Gclose(g)
            }
        }
    }

    /// Creates the groups above `object` (for a dataset about to be created there).
    func createParents(of object: String) throws {
        let parts = try components(object)
        guard parts.count > 1 else { return }
        try createGroup("/" + parts.dropLast().joined(separator: "/"))
    }

    /// The names of a group's members, in creation order when the group tracks it (files
    /// written here), else in name order (files written by h5py).
    /// - Parameter group: absolute group path.
    /// - Returns: member names (not paths).
    /// - Throws: `RunStoreError.missingObject` when the group does not exist.
    public func members(of group: String) throws -> [String] {
        try HDF5Library.locked {
            try checkOpen(group, writing: false)
            guard try exists(group) else { throw RunStoreError.missingObject(path: path, object: group) }
            let g = H5Gopen2(id, group, rk_H5P_DEFAULT())
            guard g >= 0 else {
                throw RunStoreError.wrongType(path: path, object: group, expected: "a group",
                                              found: "another object (\(HDF5Library.lastError()))")
            }
            defer { _ = H5Gclose(g) }
            var info = H5G_info_t()
            guard H5Gget_info(g, &info) >= 0 else {
                throw RunStoreError.hdf5(path: path, object: group, operation: "listing", detail: HDF5Library.lastError())
            }
            let gcpl = H5Gget_create_plist(g)
            var flags: UInt32 = 0
            _ = H5Pget_link_creation_order(gcpl, &flags)
            _ = H5Pclose(gcpl)
            let index = (flags & rk_H5P_CRT_ORDER_INDEXED()) != 0 ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME
            var names: [String] = []
            for i in 0..<info.nlinks {
                let n = H5Lget_name_by_idx(g, ".", index, H5_ITER_INC, i, nil, 0, rk_H5P_DEFAULT())
                guard n >= 0 && n < 65_536 else {
                    throw RunStoreError.hdf5(path: path, object: group, operation: "listing", detail: HDF5Library.lastError())
                }
                var buffer = [CChar](repeating: 0, count: Int(n) + 1)
                _ = H5Lget_name_by_idx(g, ".", index, H5_ITER_INC, i, &buffer, buffer.count, rk_H5P_DEFAULT())
                names.append(String(cString: buffer))
            }
            return names
        }
    }

    /// Whether `object` is a group (false for datasets and missing objects).
    public func isGroup(_ object: String) throws -> Bool {
        try HDF5Library.locked {
            guard try exists(object) else { return false }
            var info = H5O_info_t()
            guard H5Oget_info_by_name2(id, object, &info, UInt32(H5O_INFO_BASIC), rk_H5P_DEFAULT()) >= 0 else {
                _ = HDF5Library.lastError()
                return false
            }
            return info.type == H5O_TYPE_GROUP
        }
    }
}
