import CHDF5

/// A number type that can be stored in an HDF5 dataset.
///
/// `memoryType` is the native type used for reads and writes; `fileType` is the little-endian
/// type written to disk, so a file's bytes do not depend on the writing machine. Reading
/// converts between sizes of the same class (an int32 dataset reads as `Int64`, float64 as
/// `Float`), not between classes.
public protocol HDF5Element: Sendable, Equatable {
    static var memoryType: hid_t { get }
    static var fileType: hid_t { get }
    /// The HDF5 class a stored dataset must have to be read as this type.
    static var storageClass: HDF5Class { get }
    /// Name used in messages and by h5py (`float32`, `int64`, ...).
    static var typeName: String { get }
    static var zero: Self { get }
}

/// The class of a stored HDF5 datatype.
public enum HDF5Class: String, Sendable {
    case integer, float, string, other

    init(_ c: H5T_class_t) {
        switch c {
        case H5T_INTEGER: self = .integer
        case H5T_FLOAT: self = .float
        case H5T_STRING: self = .string
        default: self = .other
        }
    }
}

extension Float: HDF5Element {
    public static var memoryType: hid_t { rk_H5T_NATIVE_FLOAT() }
    public static var fileType: hid_t { rk_H5T_IEEE_F32LE() }
    public static var storageClass: HDF5Class { .float }
    public static var typeName: String { "float32" }
}

extension Double: HDF5Element {
    public static var memoryType: hid_t { rk_H5T_NATIVE_DOUBLE() }
    public static var fileType: hid_t { rk_H5T_IEEE_F64LE() }
    public static var storageClass: HDF5Class { .float }
    public static var typeName: String { "float64" }
}

extension Int64: HDF5Element {
    public static var memoryType: hid_t { rk_H5T_NATIVE_INT64() }
    public static var fileType: hid_t { rk_H5T_STD_I64LE() }
    public static var storageClass: HDF5Class { .integer }
    public static var typeName: String { "int64" }
}

extension UInt64: HDF5Element {
    public static var memoryType: hid_t { rk_H5T_NATIVE_UINT64() }
    public static var fileType: hid_t { rk_H5T_STD_U64LE() }
    public static var storageClass: HDF5Class { .integer }
    public static var typeName: String { "uint64" }
}

extension UInt8: HDF5Element {
    public static var memoryType: hid_t { rk_H5T_NATIVE_UINT8() }
    public static var fileType: hid_t { rk_H5T_STD_U8LE() }
    public static var storageClass: HDF5Class { .integer }
    public static var typeName: String { "uint8" }
}

/// A dataset's values in row-major (C) order with its shape; `shape == []` is a scalar.
public struct ShapedArray<Element: HDF5Element>: Equatable, Sendable {
    public var shape: [Int]
    public var values: [Element]

    /// - Parameters:
    ///   - shape: dimensions, outermost first (`[]` for a scalar).
    ///   - values: `shape.reduce(1, *)` elements in row-major order.
    public init(shape: [Int], values: [Element]) {
        precondition(shape.reduce(1, *) == values.count,
                     "ShapedArray: \(values.count) values for shape \(shape)")
        self.shape = shape
        self.values = values
    }
}
