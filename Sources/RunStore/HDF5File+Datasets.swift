import CHDF5
import Foundation

/// Datasets: n-dimensional arrays of `HDF5Element`s (float32, float64, int64, uint64, uint8)
/// and scalars (shape `[]`). Stored contiguous, little-endian, without timestamps.
extension HDF5File {
    /// Writes a new dataset, creating its parent groups.
    /// - Parameters:
    ///   - values: `shape.reduce(1, *)` elements in row-major order.
    ///   - shape: dimensions (`[]` for a scalar).
    ///   - object: absolute dataset path, e.g. `/weights/conv1.weight`.
    /// - Throws: `RunStoreError.invalidValue` for a count/shape mismatch or an existing object,
    ///   `.hdf5` when HDF5 fails.
    public func write<T: HDF5Element>(_ values: [T], shape: [Int], to object: String) throws {
        try HDF5Library.locked {
            try checkOpen(object, writing: true)
            guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == values.count else {
                throw RunStoreError.invalidValue(path: path, object: object,
                    detail: "\(values.count) values do not fill shape \(shape)")
            }
            guard try !exists(object) else {
                throw RunStoreError.invalidValue(path: path, object: object, detail: "already exists")
            }
            try createParents(of: object)
            let space = try dataspace(shape, object)
            defer { _ = H5Sclose(space) }
            let dcpl = H5Pcreate(rk_H5P_DATASET_CREATE())
            defer { _ = H5Pclose(dcpl) }
            _ = H5Pset_obj_track_times(dcpl, false)
            let d = H5Dcreate2(id, object, T.fileType, space, rk_H5P_DEFAULT(), dcpl, rk_H5P_DEFAULT())
            guard d >= 0 else {
                throw RunStoreError.hdf5(path: path, object: object, operation: "creating dataset",
                                         detail: HDF5Library.lastError())
            }
            defer { _ = H5Dclose(d) }
            writtenDatasets.append(object)
            guard !values.isEmpty else { return }
            let status = values.withUnsafeBytes {
                H5Dwrite(d, T.memoryType, rk_H5S_ALL(), rk_H5S_ALL(), rk_H5P_DEFAULT(), $0.baseAddress)
            }
            guard status >= 0 else {
                throw RunStoreError.hdf5(path: path, object: object, operation: "writing", detail: HDF5Library.lastError())
            }
        }
    }

    /// Writes a scalar dataset (shape `[]`).
    /// - Parameters:
    ///   - value: the number.
    ///   - object: absolute dataset path, e.g. `/state/epoch`.
    /// - Throws: as `write(_:shape:to:)`.
    public func writeScalar<T: HDF5Element>(_ value: T, to object: String) throws {
        try write([value], shape: [], to: object)
    }

    /// Writes a shaped array.
    public func write<T>(_ array: ShapedArray<T>, to object: String) throws {
        try write(array.values, shape: array.shape, to: object)
    }

    /// A dataset's shape (`[]` for a scalar) and the class of its stored type.
    /// - Parameter object: absolute dataset path.
    /// - Returns: shape and class.
    /// - Throws: `RunStoreError.missingObject` when absent, `.wrongType` when not a dataset.
    public func datasetInfo(_ object: String) throws -> (shape: [Int], storageClass: HDF5Class) {
        try HDF5Library.locked {
            let d = try openDataset(object)
            defer { _ = H5Dclose(d) }
            let shape = try datasetShape(d, object)
            let type = H5Dget_type(d)
            defer { _ = H5Tclose(type) }
            return (shape, HDF5Class(H5Tget_class(type)))
        }
    }

    /// Reads a whole dataset as `T`, with its shape.
    /// - Parameters:
    ///   - type: element type to read as (sizes convert, e.g. int32 → Int64; classes do not).
    ///   - object: absolute dataset path.
    /// - Returns: values in row-major order and the shape.
    /// - Throws: `RunStoreError.missingObject`, `.wrongType` (e.g. an integer dataset read as
    ///   Float), `.hdf5` when the data cannot be read (corrupt file).
    public func read<T: HDF5Element>(_ type: T.Type, at object: String) throws -> ShapedArray<T> {
        try HDF5Library.locked {
            let d = try openDataset(object)
            defer { _ = H5Dclose(d) }
            let shape = try datasetShape(d, object)
            let stored = H5Dget_type(d)
            let storedClass = HDF5Class(H5Tget_class(stored))
            _ = H5Tclose(stored)
            guard storedClass == T.storageClass else {
                throw RunStoreError.wrongType(path: path, object: object, expected: "a \(T.typeName) dataset",
                                              found: "a \(storedClass.rawValue) dataset")
            }
            guard let count = HDF5File.elementCount(shape, limit: HDF5File.maxDatasetBytes / MemoryLayout<T>.stride) else {
                throw RunStoreError.wrongType(path: path, object: object,
                    expected: "at most \(HDF5File.maxDatasetBytes >> 20) MiB (this machine's memory allows no more)",
                    found: "shape \(shape) (\(T.typeName)): split it, or check that the file is not corrupted")
            }
            var values = [T](repeating: T.zero, count: count)
            if count > 0 {
                let status = values.withUnsafeMutableBytes {
                    H5Dread(d, T.memoryType, rk_H5S_ALL(), rk_H5S_ALL(), rk_H5P_DEFAULT(), $0.baseAddress)
                }
                guard status >= 0 else {
                    throw RunStoreError.unreadable(path: path, detail: "reading \(object): \(HDF5Library.lastError())")
                }
            }
            return ShapedArray(shape: shape, values: values)
        }
    }

    /// Reads a scalar dataset (or a one-element array).
    /// - Throws: as `read(_:at:)`, and `.wrongType` when the dataset holds more than one value.
    public func readScalar<T: HDF5Element>(_ type: T.Type, at object: String) throws -> T {
        let array = try read(type, at: object)
        guard array.values.count == 1 else {
            throw RunStoreError.wrongType(path: path, object: object, expected: "a scalar",
                                          found: "shape \(array.shape)")
        }
        return array.values[0]
    }

    /// The file offset of a contiguous dataset's values (`H5Dget_offset`), nil when HDF5 has
    /// none (compact, chunked or not yet allocated). For tests that damage stored values.
    public func dataOffset(_ object: String) throws -> Int? {
        try HDF5Library.locked {
            let d = try openDataset(object)
            defer { _ = H5Dclose(d) }
            let offset = H5Dget_offset(d)
            _ = HDF5Library.lastError()
            return offset == hsize_t.max ? nil : Int(offset)
        }
    }

    /// Where a contiguous dataset's values lie in the file (`H5Dget_offset`,
    /// `H5Dget_storage_size`); nil when nothing is stored (no values).
    /// - Throws: `.hdf5` when the dataset has values but HDF5 reports no contiguous storage.
    func storedExtent(_ object: String) throws -> (offset: Int, length: Int)? {
        try HDF5Library.locked {
            let d = try openDataset(object)
            defer { _ = H5Dclose(d) }
            let length = Int(H5Dget_storage_size(d))
            guard length > 0 else { return nil }
            let offset = H5Dget_offset(d)
            guard offset != hsize_t.max else {
                throw RunStoreError.hdf5(path: path, object: object, operation: "locating the stored values of",
                                         detail: "no contiguous storage (\(HDF5Library.lastError()))")
            }
            return (Int(offset), length)
        }
    }

    // MARK: Helpers (called under the lock)

    func openDataset(_ object: String) throws -> hid_t {
        try checkOpen(object, writing: false)
        guard try exists(object) else { throw RunStoreError.missingObject(path: path, object: object) }
        let d = H5Dopen2(id, object, rk_H5P_DEFAULT())
        guard d >= 0 else {
            let detail = HDF5Library.lastError()
            if try isGroup(object) {
                throw RunStoreError.wrongType(path: path, object: object, expected: "a dataset", found: "a group")
            }
            throw RunStoreError.unreadable(path: path, detail: "opening \(object): \(detail)")
        }
        return d
    }

    func datasetShape(_ d: hid_t, _ object: String) throws -> [Int] {
        let space = H5Dget_space(d)
        guard space >= 0 else {
            throw RunStoreError.unreadable(path: path, detail: "reading the shape of \(object): \(HDF5Library.lastError())")
        }
        defer { _ = H5Sclose(space) }
        return try shapeOf(space: space, object)
    }

    /// The largest dataset `read` allocates: half of the physical memory, at most 64 GiB.
    static var maxDatasetBytes: Int { Int(min(ProcessInfo.processInfo.physicalMemory / 2, 64 << 30)) }

    /// The product of `shape`, or nil when it overflows or exceeds `limit`.
    static func elementCount(_ shape: [Int], limit: Int) -> Int? {
        var n = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            guard !overflow, p <= limit else { return nil }
            n = p
        }
        return n
    }

    func shapeOf(space: hid_t, _ object: String) throws -> [Int] {
        let rank = H5Sget_simple_extent_ndims(space)
        guard rank >= 0 else {
            throw RunStoreError.wrongType(path: path, object: object, expected: "a simple or scalar dataspace",
                                          found: "another dataspace")
        }
        if rank == 0 { return H5Sget_simple_extent_type(space) == H5S_NULL ? [0] : [] }
        guard rank <= 32 else {
            throw RunStoreError.wrongType(path: path, object: object, expected: "at most 32 dimensions", found: "\(rank) (a corrupted file?)")
        }
        var dims = [hsize_t](repeating: 0, count: Int(rank))
        _ = H5Sget_simple_extent_dims(space, &dims, nil)
        guard dims.allSatisfy({ $0 <= hsize_t(Int.max) }) else {
            throw RunStoreError.wrongType(path: path, object: object, expected: "at most 32 dimensions of sane size",
                                          found: "dimensions \(dims) (a corrupted file?)")
        }
        return dims.map { Int($0) }
    }

    func dataspace(_ shape: [Int], _ object: String) throws -> hid_t {
        let space: hid_t
        if shape.isEmpty {
            space = H5Screate(H5S_SCALAR)
        } else {
            let dims = shape.map { hsize_t($0) }
            space = H5Screate_simple(Int32(dims.count), dims, nil)
        }
        guard space >= 0 else {
            throw RunStoreError.hdf5(path: path, object: object, operation: "creating dataspace \(shape) for",
                                     detail: HDF5Library.lastError())
        }
        return space
    }
}
