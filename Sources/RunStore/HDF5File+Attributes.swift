import CHDF5
import Foundation

/// The value of an HDF5 attribute. Strings are UTF-8; integers int64; reals float64.
public enum HDF5AttributeValue: Equatable, Sendable {
    case string(String)
    case int64(Int64)
    case double(Double)
    case strings([String])
    case int64s([Int64])
    case doubles([Double])

    /// The value as one string, when it is one.
    public var stringValue: String? { if case let .string(s) = self { return s }; return nil }
    /// The value as one integer, when it is one.
    public var int64Value: Int64? { if case let .int64(v) = self { return v }; return nil }
    /// The value as one real: a float, or an integer converted (h5py writes `0` for `0.0`).
    public var doubleValue: Double? {
        switch self {
        case let .double(v): return v
        case let .int64(v): return Double(v)
        case let .doubles(v) where v.count == 1: return v[0]
        default: return nil
        }
    }
}

/// How a string attribute is stored. h5py reads `.variable` as `str`, `.fixed` as `bytes`.
///
/// Run files use `.fixed`: the bytes sit in the attribute itself, so reading one is a bounded
/// copy. A variable-length string is a reference into the file's global heap, and HDF5 follows
/// a corrupted reference without checking it (a segfault in `H5HG_read`), so `attribute(_:of:)`
/// reads `.variable` strings only when asked to (`allowVariableLength`), for files of other tools.
public enum HDF5StringStorage: Sendable { case variable, fixed }

/// Upper bounds checked before an attribute is read, so a corrupted size cannot make the
/// reader allocate gigabytes.
enum HDF5AttributeLimits {
    /// Bytes of one fixed-length string.
    static let stringBytes = 16 << 20
    /// Elements of one attribute.
    static let elements = 1 << 20
}

/// Attributes on the root group or any group or dataset.
extension HDF5File {
    /// Sets an attribute, replacing one of the same name.
    /// - Parameters:
    ///   - name: attribute name.
    ///   - value: the value.
    ///   - object: absolute path of the group or dataset (default: the root group).
    ///   - strings: storage of string values (default fixed-length, see `HDF5StringStorage`).
    /// - Throws: `RunStoreError.missingObject` when `object` is absent, `.hdf5` when HDF5 fails.
    public func setAttribute(_ name: String, _ value: HDF5AttributeValue, on object: String = "/",
                             strings: HDF5StringStorage = .fixed) throws {
        try HDF5Library.locked {
            try checkOpen(object, writing: true)
            let o = try openObject(object)
            defer { _ = H5Oclose(o) }
            if H5Aexists(o, name) > 0 { _ = H5Adelete(o, name) }
            let where_ = "attribute \(name) of \(object)"
            switch value {
            case let .string(s): try writeStrings(o, name, [s], scalar: true, storage: strings, where_)
            case let .strings(s): try writeStrings(o, name, s, scalar: false, storage: strings, where_)
            case let .int64(v): try writeNumbers(o, name, [v], scalar: true, where_)
            case let .int64s(v): try writeNumbers(o, name, v, scalar: false, where_)
            case let .double(v): try writeNumbers(o, name, [v], scalar: true, where_)
            case let .doubles(v): try writeNumbers(o, name, v, scalar: false, where_)
            }
        }
    }

    /// Reads an attribute.
    /// - Parameters:
    ///   - name: attribute name.
    ///   - object: absolute path of the group or dataset (default: the root group).
    ///   - allowVariableLength: read variable-length strings too (files of other tools only:
    ///     a corrupted one crashes HDF5, see `HDF5StringStorage`).
    /// - Returns: the value, or nil when the object has no such attribute.
    /// - Throws: `RunStoreError.missingObject` when `object` is absent, `.wrongType` for a type
    ///   other than string, integer or float, for a variable-length string unless allowed, and
    ///   for sizes beyond `HDF5AttributeLimits`.
    public func attribute(_ name: String, of object: String = "/",
                          allowVariableLength: Bool = false) throws -> HDF5AttributeValue? {
        try HDF5Library.locked {
            try checkOpen(object, writing: false)
            let o = try openObject(object)
            defer { _ = H5Oclose(o) }
            guard H5Aexists(o, name) > 0 else { _ = HDF5Library.lastError(); return nil }
            let where_ = "attribute \(name) of \(object)"
            let a = H5Aopen(o, name, rk_H5P_DEFAULT())
            guard a >= 0 else { throw RunStoreError.unreadable(path: path, detail: "opening \(where_): \(HDF5Library.lastError())") }
            defer { _ = H5Aclose(a) }
            let space = H5Aget_space(a)
            defer { _ = H5Sclose(space) }
            let shape = try shapeOf(space: space, where_)
            guard let count = HDF5File.elementCount(shape, limit: HDF5AttributeLimits.elements) else {
                throw RunStoreError.wrongType(path: path, object: where_, expected: "at most \(HDF5AttributeLimits.elements) elements",
                                              found: "shape \(shape) (a corrupted size?)")
            }
            let type = H5Aget_type(a)
            guard type >= 0 else { throw RunStoreError.unreadable(path: path, detail: "reading the type of \(where_): \(HDF5Library.lastError())") }
            defer { _ = H5Tclose(type) }
            switch HDF5Class(H5Tget_class(type)) {
            case .string:
                if H5Tis_variable_str(type) > 0 && !allowVariableLength {
                    throw RunStoreError.wrongType(path: path, object: where_, expected: "a fixed-length string",
                        found: "a variable-length string (a reference into the global heap, which is not read: a corrupted one crashes HDF5; files of rkan-repro before schema rkan-repro/2 store them)")
                }
                let size = H5Tget_size(type)
                if H5Tis_variable_str(type) <= 0 && (size == 0 || size > HDF5AttributeLimits.stringBytes || size * max(count, 1) > HDF5AttributeLimits.stringBytes) {
                    throw RunStoreError.wrongType(path: path, object: where_, expected: "a string of 1 to \(HDF5AttributeLimits.stringBytes) bytes",
                                                  found: "a string type of \(size) bytes (a corrupted size?)")
                }
                let s = try readStrings(a, type, count, where_)
                return shape.isEmpty ? .string(s.first ?? "") : .strings(s)
            case .integer:
                guard H5Tget_size(type) <= 8 else {
                    throw RunStoreError.wrongType(path: path, object: where_, expected: "an integer of at most 8 bytes", found: "\(H5Tget_size(type)) bytes")
                }
                let v: [Int64] = try readNumbers(a, count, where_)
                return shape.isEmpty ? .int64(v[0]) : .int64s(v)
            case .float:
                guard H5Tget_size(type) <= 8 else {
                    throw RunStoreError.wrongType(path: path, object: where_, expected: "a float of at most 8 bytes", found: "\(H5Tget_size(type)) bytes")
                }
                let v: [Double] = try readNumbers(a, count, where_)
                return shape.isEmpty ? .double(v[0]) : .doubles(v)
            case .other:
                throw RunStoreError.wrongType(path: path, object: where_, expected: "a string, integer or float",
                                              found: "another HDF5 type")
            }
        }
    }

    /// The names of an object's attributes, in name order.
    /// - Parameter object: absolute path (default: the root group).
    public func attributeNames(of object: String = "/") throws -> [String] {
        try HDF5Library.locked {
            try checkOpen(object, writing: false)
            let o = try openObject(object)
            defer { _ = H5Oclose(o) }
            var info = H5O_info_t()
            _ = H5Oget_info2(o, &info, UInt32(H5O_INFO_NUM_ATTRS))
            var names: [String] = []
            for i in 0..<info.num_attrs {
                let n = H5Aget_name_by_idx(o, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, rk_H5P_DEFAULT())
                guard n >= 0 && n < 65_536 else {
                    throw RunStoreError.unreadable(path: path, detail: "listing the attributes of \(object): \(HDF5Library.lastError())")
                }
                var buffer = [CChar](repeating: 0, count: Int(n) + 1)
                _ = H5Aget_name_by_idx(o, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buffer, buffer.count, rk_H5P_DEFAULT())
                names.append(String(cString: buffer))
            }
            return names
        }
    }

    // MARK: Helpers (called under the lock)

    private func openObject(_ object: String) throws -> hid_t {
        guard try exists(object) else { throw RunStoreError.missingObject(path: path, object: object) }
        let o = H5Oopen(id, object, rk_H5P_DEFAULT())
        guard o >= 0 else { throw RunStoreError.unreadable(path: path, detail: "opening \(object): \(HDF5Library.lastError())") }
        return o
    }

    private func createAttribute(_ o: hid_t, _ name: String, _ type: hid_t, count: Int, scalar: Bool,
                                 _ where_: String) throws -> hid_t {
        let space = try dataspace(scalar ? [] : [count], where_)
        defer { _ = H5Sclose(space) }
        let a = H5Acreate2(o, name, type, space, rk_H5P_DEFAULT(), rk_H5P_DEFAULT())
        guard a >= 0 else {
            throw RunStoreError.hdf5(path: path, object: where_, operation: "creating", detail: HDF5Library.lastError())
        }
        return a
    }

    private func writeNumbers<T: HDF5Element>(_ o: hid_t, _ name: String, _ v: [T], scalar: Bool, _ where_: String) throws {
        let a = try createAttribute(o, name, T.fileType, count: v.count, scalar: scalar, where_)
        defer { _ = H5Aclose(a) }
        guard !v.isEmpty else { return }
        let status = v.withUnsafeBytes { H5Awrite(a, T.memoryType, $0.baseAddress) }
        guard status >= 0 else {
            throw RunStoreError.hdf5(path: path, object: where_, operation: "writing", detail: HDF5Library.lastError())
        }
    }

    private func readNumbers<T: HDF5Element>(_ a: hid_t, _ count: Int, _ where_: String) throws -> [T] {
        var v = [T](repeating: T.zero, count: count)
        guard count > 0 else { return v }
        let status = v.withUnsafeMutableBytes { H5Aread(a, T.memoryType, $0.baseAddress) }
        guard status >= 0 else { throw RunStoreError.unreadable(path: path, detail: "reading \(where_): \(HDF5Library.lastError())") }
        return v
    }

    /// A UTF-8 C string type: variable-length, or fixed `size` bytes padded with NULs.
    /// `cset` is the stored one when reading: HDF5 does not convert ASCII to UTF-8, and
    /// ASCII bytes decode as UTF-8 anyway.
    private func stringType(variable: Bool, size: Int, cset: H5T_cset_t = H5T_CSET_UTF8) -> hid_t {
        let t = H5Tcopy(rk_H5T_C_S1())
        _ = H5Tset_size(t, variable ? rk_H5T_VARIABLE() : max(size, 1))
        _ = H5Tset_cset(t, cset)
        _ = H5Tset_strpad(t, variable ? H5T_STR_NULLTERM : H5T_STR_NULLPAD)
        return t
    }

    private func writeStrings(_ o: hid_t, _ name: String, _ strings: [String], scalar: Bool,
                              storage: HDF5StringStorage, _ where_: String) throws {
        let bytes = strings.map { Array($0.utf8) }
        let fixedSize = max(bytes.map(\.count).max() ?? 1, 1)
        let type = stringType(variable: storage == .variable, size: fixedSize)
        defer { _ = H5Tclose(type) }
        let a = try createAttribute(o, name, type, count: strings.count, scalar: scalar, where_)
        defer { _ = H5Aclose(a) }
        guard !strings.isEmpty else { return }
        var status: herr_t
        switch storage {
        case .variable:
            let cStrings = strings.map { strdup($0) }
            defer { cStrings.forEach { free($0) } }
            status = cStrings.withUnsafeBytes { H5Awrite(a, type, $0.baseAddress) }
        case .fixed:
            var flat = [UInt8](repeating: 0, count: fixedSize * strings.count)
            for (i, b) in bytes.enumerated() { flat.replaceSubrange(i * fixedSize..<i * fixedSize + b.count, with: b) }
            status = flat.withUnsafeBytes { H5Awrite(a, type, $0.baseAddress) }
        }
        guard status >= 0 else {
            throw RunStoreError.hdf5(path: path, object: where_, operation: "writing", detail: HDF5Library.lastError())
        }
    }

    private func readStrings(_ a: hid_t, _ stored: hid_t, _ count: Int, _ where_: String) throws -> [String] {
        guard count > 0 else { return [] }
        if H5Tis_variable_str(stored) > 0 {
            let type = stringType(variable: true, size: 0, cset: H5Tget_cset(stored))
            defer { _ = H5Tclose(type) }
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            guard H5Aread(a, type, &pointers) >= 0 else {
                throw RunStoreError.unreadable(path: path, detail: "reading \(where_): \(HDF5Library.lastError())")
            }
            let strings = pointers.map { $0.map { String(cString: $0) } ?? "" }
            let space = H5Aget_space(a)
            _ = H5Dvlen_reclaim(type, space, rk_H5P_DEFAULT(), &pointers)
            _ = H5Sclose(space)
            return strings
        }
        let size = H5Tget_size(stored)
        let type = stringType(variable: false, size: size, cset: H5Tget_cset(stored))
        defer { _ = H5Tclose(type) }
        var flat = [UInt8](repeating: 0, count: size * count)
        guard flat.withUnsafeMutableBytes({ H5Aread(a, type, $0.baseAddress) }) >= 0 else {
            throw RunStoreError.unreadable(path: path, detail: "reading \(where_): \(HDF5Library.lastError())")
        }
        return (0..<count).map { i in
            var item = flat[i * size..<(i + 1) * size]
            while let last = item.last, last == 0 || last == 0x20 && H5Tget_strpad(stored) == H5T_STR_SPACEPAD {
                item = item.dropLast()
            }
            return String(decoding: item, as: UTF8.self)
        }
    }
}
